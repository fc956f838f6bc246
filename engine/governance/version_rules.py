"""Whether a person may approve, reject, publish or roll back a version right now.

One function answers, in one sentence: the services raise its answer, and the
designer shows it beside a disabled button, so no screen restates the rule (the
four-eyes check compares logins through :func:`permissions.same_person`, the one
place where letter case is settled).
"""

from __future__ import annotations

from sqlalchemy import Connection

from engine.governance.version_info import VersionInfo
from engine.permissions import refusal, same_person
from engine.settings import FOUR_EYES_RELAXED, get_setting

# The states each version action starts from.
STARTS_FROM: dict[str, tuple[str, ...]] = {
    "graph.approve": ("in_review",),
    "graph.reject": ("in_review",),
    "graph.publish": ("approved",),
    "graph.rollback": ("superseded",),
}


def version_refusal(conn: Connection, version: VersionInfo, actor: str, action: str) -> str | None:
    """Why ``actor`` may not do ``action`` (one of :data:`STARTS_FROM`) to ``version``
    now, in one sentence; None when they may. The services raise it and the designer
    shows it beside a disabled button: one rule, one place."""
    denied = refusal(conn, actor, action)
    if denied is not None:
        return denied
    if version.state not in STARTS_FROM[action]:
        return _wrong_state(version, action)
    if (
        action == "graph.approve"
        and same_person(version.author, actor)
        and not get_setting(conn, FOUR_EYES_RELAXED, False)
    ):
        return f"You wrote {version.label}, so someone else must approve it (four-eyes rule)."
    return None


def _wrong_state(version: VersionInfo, action: str) -> str:
    label, state = version.label, version.state.replace("_", " ")
    if action in ("graph.approve", "graph.reject"):
        return f"{label} is {state}, not in review."
    if action == "graph.publish":
        return f"{label} is {state}; only an approved version can be published."
    if version.state == "published":
        return f"{label} is already the published version."
    return (
        f"{label} was never published ({state}); roll back only to a version that was "
        "published before."
    )
