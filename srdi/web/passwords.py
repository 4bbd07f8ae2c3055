"""Password hashes for bureau users (argon2id via pwdlib); shared by the console and the CLI."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

from models.errors import RuleViolation

MIN_LENGTH = 10


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def check_strength(password: str) -> None:
    """Refuse a password a clerk could guess; the message says what is expected."""
    if len(password) < MIN_LENGTH:
        raise RuleViolation(f"密码至少 {MIN_LENGTH} 位，实际 {len(password)} 位")
    if password.isdigit() or password.isalpha():
        raise RuleViolation("密码须同时包含字母和数字（或其他字符）")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches; an absent hash still costs one hash (no timing hint)."""
    if not password_hash:
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed log-in, not a crash
        return False
