"""StatusFlow accounts: adding people, their roles and passwords, and the local
administrator of the embedded single-person database. Each change checks the
"manage users" permission and is audited (:mod:`engine.governance.users`)."""

from __future__ import annotations

from engine.governance.users import (
    UserInfo,
    add_user,
    deactivate,
    ensure_local_admin,
    find_user,
    list_users,
    reactivate,
    set_password,
    set_roles,
)
from engine.storage.tables import ROLES

__all__ = [
    "ROLES",
    "UserInfo",
    "add_user",
    "deactivate",
    "ensure_local_admin",
    "find_user",
    "list_users",
    "reactivate",
    "set_password",
    "set_roles",
]
