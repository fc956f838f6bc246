"""TEST ONLY: cheap password hashing for tests that sign people in but are not about
the hashing cost.

The product hashes at OWASP's scrypt minimum (N=2^17, about half a second and 128 MiB
a hash), which would make every test that creates a user with a password slow, and
throws off tests that time a sign-in against a short timer. Such tests use
:func:`fast_password_hashing` (through a fixture of their own); the cost itself and the
upgrade of older hashes are tested at the real cost in
``tests/engine/test_rules_users_noticed.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from engine.governance import passwords

FAST_SCRYPT_N = 2**10


@contextmanager
def fast_password_hashing() -> Iterator[None]:
    """New hashes at N=2^10 for the duration (``passwords.TEST_ONLY_SCRYPT_N``)."""
    passwords.TEST_ONLY_SCRYPT_N = FAST_SCRYPT_N
    try:
        yield
    finally:
        passwords.TEST_ONLY_SCRYPT_N = None
