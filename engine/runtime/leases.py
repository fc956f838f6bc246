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

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    text,
    update,
)

from engine.runtime.bulk import one_of
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


class LeaseLost(Exception):
    """This engine no longer holds the item; another engine took it over."""


def claim_due(
    conn: Connection, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Claim]:
    """Claim up to ``limit`` due items, at most one per record, none of a busy record.

    On PostgreSQL only ``limit`` rows are locked: rows locked but not worked on would
    keep the other engines from them until this batch commits."""
    postgres = conn.dialect.name == "postgresql"
    busy = work_items.alias("busy")
    query = (
        select(work_items.c.id, work_items.c.record_lock)
        .where(pending(postgres))
        .where(work_items.c.due_at <= now)
        .where(
            ~exists().where(
                and_(busy.c.record_lock == work_items.c.record_lock, busy.c.state == "claimed")
            )
        )
        .order_by(work_items.c.due_at, work_items.c.id)
        .limit(limit if postgres else limit * 4)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, of=work_items)
    chosen: dict[str, int] = {}
    for row in conn.execute(query):
        if row.record_lock not in chosen:
            chosen[row.record_lock] = row.id
            if len(chosen) == limit:
                break
    if postgres and chosen:
        chosen = _lock_records(conn, chosen)
    return _claim_ids(conn, list(chosen.values()), owner, now, lease)


def next_due(conn: Connection, now: datetime) -> datetime | None:
    """When the next pending item falls due, if later than now."""
    query = (
        select(func.min(work_items.c.due_at))
        .where(pending(conn.dialect.name == "postgresql"))
        .where(work_items.c.due_at > now)
    )
    return conn.execute(query).scalar()


def pending(postgres: bool) -> ColumnElement[bool]:
    """Pending items, said so that both databases look them up in the partial index of
    pending items by due time. SQLite needs the condition written out (not bound) and
    marked likely, or it prefers the index on state: with 100,000 waits pending a look
    then takes 20 ms instead of a twentieth of one."""
    written = work_items.c.state == literal_column("'pending'")
    return written if postgres else func.likely(written)


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
                .where(one_of(conn, work_items.c.record_lock, "locks")),
                {"locks": list(free)},
            ).scalars()
        )
    return {lock: item for lock, item in chosen.items() if lock in free}


def _claim_ids(
    conn: Connection, ids: list[int], owner: str, now: datetime, lease: timedelta
) -> list[Claim]:
    """Claim these pending items, in the order they fell due."""
    if not ids:
        return []
    rows = conn.execute(
        update(work_items)
        .where(one_of(conn, work_items.c.id, "ids"))
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
        ),
        {"ids": ids},
    ).all()
    rows = sorted(rows, key=lambda r: (r.due_at, r.id))
    return [
        Claim(r.id, r.run_id, r.node_id, r.attempt, dict(r.payload or {}), r.record_lock)
        for r in rows
    ]


def _held(claim: Claim, owner: str) -> dict[str, Any]:
    """Parameters of the statements below that only touch an item this engine holds."""
    return {"held_id": claim.id, "held_by": owner, "held_attempt": claim.attempt}


_HELD = (
    (work_items.c.id == bindparam("held_id"))
    & (work_items.c.state == "claimed")
    & (work_items.c.lease_owner == bindparam("held_by"))
    & (work_items.c.attempt == bindparam("held_attempt"))
)
_RENEW = update(work_items).where(_HELD).values(lease_expires_at=bindparam("expires"))


def renew(conn: Connection, claim: Claim, owner: str, now: datetime, lease: timedelta) -> bool:
    """Extend the lease before a slow step; False if another engine has taken it."""
    return bool(conn.execute(_RENEW, {**_held(claim, owner), "expires": now + lease}).rowcount)


def complete(conn: Connection, claims: list[Claim], owner: str, now: datetime) -> bool:
    """Mark the items done if this engine still holds every lease; False if it lost one
    (then the caller must roll back: some may have been marked)."""
    statement = (
        update(work_items)
        .where(one_of(conn, work_items.c.id, "held_ids"))
        .where(work_items.c.state == "claimed")
        .where(work_items.c.lease_owner == bindparam("held_by"))
        .where(work_items.c.attempt == bindparam("held_attempt"))
        .values(state="done", completed_at=now, lease_owner=None, lease_expires_at=None)
    )
    by_attempt: dict[int, list[int]] = {}
    for claim in claims:
        by_attempt.setdefault(claim.attempt, []).append(claim.id)
    for attempt, ids in by_attempt.items():
        params = {"held_ids": ids, "held_by": owner, "held_attempt": attempt}
        if conn.execute(statement, params).rowcount != len(ids):
            return False
    return True


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
    statement = update(work_items).where(_HELD).values(**values)
    return bool(conn.execute(statement, _held(claim, owner)).rowcount)


def release(conn: Connection, claims: list[Claim], owner: str) -> int:
    """Give claimed items back untouched (graceful stop); the attempt is not counted."""
    released = 0
    for claim in claims:
        released += conn.execute(_RELEASE, _held(claim, owner)).rowcount
    return released


_RELEASE = (
    update(work_items)
    .where(_HELD)
    .values(
        state="pending",
        lease_owner=None,
        lease_expires_at=None,
        attempt=work_items.c.attempt - 1,
    )
)


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
