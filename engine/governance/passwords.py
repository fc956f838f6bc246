"""Password hashes: scrypt at OWASP's minimum cost (N=2^17, r=8, p=1).

Each hash carries its parameters (``scrypt$n$r$p$salt$hash``), so a hash made at an
older, cheaper cost still verifies and is remade at the current cost at the next
sign-in (:func:`needs_rehash`), the only moment the password itself is known.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1  # OWASP's minimum for scrypt
# TEST ONLY: a lower N for hashes made while it is set, so a test suite that creates many
# users stays fast. Never set it in the product; a hash made with it is upgraded to
# SCRYPT_N at that user's next sign-in once it is unset again.
TEST_ONLY_SCRYPT_N: int | None = None


def cost() -> tuple[int, int, int]:
    """The (N, r, p) new hashes are made with."""
    return TEST_ONLY_SCRYPT_N or SCRYPT_N, SCRYPT_R, SCRYPT_P


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int = 64) -> bytes:
    """scrypt with the memory limit raised to what (N, r, p) need: OpenSSL's default of
    32 MiB refuses N=2^17, r=8 (128 MiB)."""
    needed = 128 * r * (n + p + 2)
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=needed + 2**20, dklen=dklen
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` with a fresh 16-byte salt (base64 parts)."""
    return _hash(password, *cost())


def _hash(password: str, n: int, r: int, p: int) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, r, p)
    return "$".join(("scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)))


def _parameters(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    """(N, r, p, salt, hash) of a stored hash; None for anything not scrypt."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        return (
            int(parts[1]),
            int(parts[2]),
            int(parts[3]),
            base64.b64decode(parts[4]),
            base64.b64decode(parts[5]),
        )
    except ValueError:
        return None


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password`, at any cost."""
    found = _parameters(stored)
    if found is None:
        return False
    n, r, p, salt, expected = found
    actual = _scrypt(password, salt, n, r, p, dklen=len(expected))
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made at a lower cost than new ones are, so it is remade at the
    next sign-in (the only moment the password itself is known); never downgraded."""
    found = _parameters(stored)
    if found is None:
        return False
    return any(old < new for old, new in zip(found[:3], cost(), strict=True))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@functools.cache
def decoy_hash(n: int, r: int, p: int) -> str:
    """Checked for unknown users so a refusal takes as long either way (at the cost
    real hashes are made with)."""
    return _hash(secrets.token_hex(8), n, r, p)
