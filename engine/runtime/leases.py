"""Claiming work items with a lease, and giving expired leases to someone else.

A claim sets owner, expiry and attempt. Finishing an item checks owner and attempt,
so a worker that lost its lease cannot complete it. On PostgreSQL rows another
transaction holds are skipped (SKIP LOCKED) and each record is also taken with a
transaction-level advisory lock, re-checked against items already claimed, so "one
item per record at a time" holds exactly across engines while their claims run in
parallel. On SQLite one engine runs per file and BEGIN IMMEDIATE serializes writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, select, text, update

from engine.storage.tables import work_items

RECORD_LOCK_NAMESPACE = 0x5F_C1A1  # first key of the per-record advisory locks


@dataclass(frozen=True)
class Claim:
    """A work item this engine holds the lease on."""

    id: int
    run_id: str
    node_id: str
    attempt: int
    payload: dict[str, Any]
    record_lock: str


def claim_due(
    conn: Connection, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Claim]:
    """Claim up to ``limit`` due items, at most one per record, none of a busy record."""
    postgres = conn.dialect.name == "postgresql"
    busy = work_items.alias("busy")
    query = (
        select(work_items.c.id, work_items.c.record_lock)
        .where(work_items.c.state == "pending")
        .where(work_items.c.due_at <= now)
        .where(
            ~exists().where(
                and_(busy.c.record_lock == work_items.c.record_lock, busy.c.state == "claimed")
            )
        )
        .order_by(work_items.c.due_at, work_items.c.id)
        .limit(limit * 4)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, of=work_items)
    chosen: dict[str, int] = {}
    for row in conn.execute(query):
        if row.record_lock not in chosen:
            chosen[row.record_lock] = row.id
            if len(chosen) == limit:
                break
    if postgres:
        chosen = _lock_records(conn, chosen)
    return claim_ids(conn, list(chosen.values()), owner, now, lease)


def _lock_records(conn: Connection, chosen: dict[str, int]) -> dict[str, int]:
    """Keep the records this transaction could lock and that nobody works on."""
    locked = conn.execute(
        text(
            "SELECT k FROM unnest(CAST(:keys AS text[])) AS k "
            "WHERE pg_try_advisory_xact_lock(CAST(:ns AS integer), hashtext(k))"
        ),
        {"keys": list(chosen), "ns": RECORD_LOCK_NAMESPACE},
    ).scalars()
    free = set(locked)
    if free:  # another engine may have committed a claim since our first look
        free -= set(
            conn.execute(
                select(work_items.c.record_lock)
                .where(work_items.c.state == "claimed")
                .where(work_items.c.record_lock.in_(free))
            ).scalars()
        )
    return {lock: item for lock, item in chosen.items() if lock in free}


def claim_ids(
    conn: Connection, ids: list[int], owner: str, now: datetime, lease: timedelta
) -> list[Claim]:
    """Claim these pending items (already chosen, or just created by this engine)."""
    if not ids:
        return []
    rows = conn.execute(
        update(work_items)
        .where(work_items.c.id.in_(ids))
        .where(work_items.c.state == "pending")
        .values(
            state="claimed",
            lease_owner=owner,
            lease_expires_at=now + lease,
            attempt=work_items.c.attempt + 1,
        )
        .returning(
            work_items.c.id,
            work_items.c.run_id,
            work_items.c.node_id,
            work_items.c.attempt,
            work_items.c.payload,
            work_items.c.record_lock,
            work_items.c.due_at,
        )
    ).all()
    rows = sorted(rows, key=lambda r: (r.due_at, r.id))
    return [
        Claim(r.id, r.run_id, r.node_id, r.attempt, dict(r.payload or {}), r.record_lock)
        for r in rows
    ]


def renew(conn: Connection, claim: Claim, owner: str, now: datetime, lease: timedelta) -> bool:
    """Extend the lease before a slow step; False if another engine has taken it."""
    return bool(
        conn.execute(
            update(work_items).where(_held(claim, owner)).values(lease_expires_at=now + lease)
        ).rowcount
    )


def _held(claim: Claim, owner: str) -> ColumnElement[bool]:
    return (
        (work_items.c.id == claim.id)
        & (work_items.c.state == "claimed")
        & (work_items.c.lease_owner == owner)
        & (work_items.c.attempt == claim.attempt)
    )


def complete(conn: Connection, claim: Claim, owner: str, now: datetime) -> bool:
    """Mark the item done if this engine still holds its lease; False if it lost it."""
    return bool(
        conn.execute(
            update(work_items)
            .where(_held(claim, owner))
            .values(state="done", completed_at=now, lease_owner=None, lease_expires_at=None)
        ).rowcount
    )


def reschedule(
    conn: Connection,
    claim: Claim,
    owner: str,
    due_at: datetime,
    payload: dict[str, Any],
    *,
    keep_attempts: bool,
) -> bool:
    """Put the item back for later (a wait, or a retry); False if the lease was lost."""
    values: dict[str, Any] = {
        "state": "pending",
        "due_at": due_at,
        "payload": payload,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if not keep_attempts:
        values["attempt"] = 0
    return bool(
        conn.execute(update(work_items).where(_held(claim, owner)).values(**values)).rowcount
    )


def release(conn: Connection, claims: list[Claim], owner: str) -> int:
    """Give claimed items back untouched (graceful stop); the attempt is not counted."""
    released = 0
    for claim in claims:
        released += conn.execute(
            update(work_items)
            .where(_held(claim, owner))
            .values(
                state="pending",
                lease_owner=None,
                lease_expires_at=None,
                attempt=work_items.c.attempt - 1,
            )
        ).rowcount
    return released


def expired(conn: Connection, now: datetime, limit: int = 500) -> list[Claim]:
    """Claimed items whose lease ran out: their engine died or hung mid-step."""
    query = (
        select(work_items)
        .where(work_items.c.state == "claimed")
        .where(work_items.c.lease_expires_at < now)
        .order_by(work_items.c.lease_expires_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [
        Claim(r.id, r.run_id, r.node_id, r.attempt, dict(r.payload or {}), r.record_lock)
        for r in conn.execute(query)
    ]


def take_over(conn: Connection, claim: Claim, payload: dict[str, Any] | None = None) -> None:
    """Make an expired item claimable again; its attempt stays counted."""
    values: dict[str, Any] = {"state": "pending", "lease_owner": None, "lease_expires_at": None}
    if payload is not None:
        values["payload"] = payload
    conn.execute(
        update(work_items)
        .where(work_items.c.id == claim.id)
        .where(work_items.c.state == "claimed")
        .values(**values)
    )
