"""The bureau web console (管理控制台): server-rendered pages and a JSON API over the same reads.

It holds no rules: decisions go through the domain functions in tasks/, reads are SQL over the
tables in models/, and every query is limited to the signed-in user's jurisdiction subtree.
"""
