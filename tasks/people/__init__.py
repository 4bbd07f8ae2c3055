"""People (用户): bureau and applicant users, who may act, where and for whom.

Owns the user accounts (users.py), the one actor model — a user with role and jurisdiction node, or
``system`` (actors.py) — and the one subtree check, in SQL and in Python (scope.py), that the web
console, the CLI's ``--as`` user and every domain check in tasks/ use.
"""
