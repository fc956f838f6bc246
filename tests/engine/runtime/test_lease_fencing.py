"""Leases fence work items: whoever lost one cannot finish it, and nothing runs twice.

Every repeat these tests guard against would be visible: a field a step appends to
('x' twice), an email counted at a real SMTP server, a wait that starts over, a
timeline line per attempt. An idempotent step (applying a label) would hide them.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, Row, event, select, text, update
from sqlalchemy.exc import OperationalError

from engine.clock import ManualClock
from engine.runtime import leases
from engine.runtime.engine import Engine
from engine.runtime.leases import Claim, LeaseLost
from engine.storage.database import Database
from engine.storage.tables import run_steps, work_items
from engine.storage.types import new_id
from tests.conftest import fresh_postgres_url
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import (
    engine,
    mail_settings,
    publish,
    run_states,
    set_status,
    shop,
    timeline,
)
from tests.host import as_host
from tests.servers import SmtpServer

LEASE = timedelta(seconds=30)
LATER = timedelta(minutes=1)  # long enough for a lease to run out
LOCK_WAIT = "1500ms"  # a claim stuck behind another engine's locks fails this fast
T = TypeVar("T")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def pg(pg_template: str) -> Iterator[Database]:
    """A fresh PostgreSQL database alone: for claims of two connections at once."""
    for url in fresh_postgres_url(pg_template):
        database = Database(url)
        yield database
        database.dispose()


# -- helpers -------------------------------------------------------------------------


def move(db: Database, key: int, status: str) -> None:
    """Put a demo order into ``status`` from New, so that the status is entered anew."""
    set_status(db, "orders", key, "NEW")
    set_status(db, "orders", key, status)


def customer_name(db: Database, key: int) -> str:
    with as_host(db) as conn:
        return str(
            conn.execute(
                text("SELECT customer_name FROM orders WHERE id = :k"), {"k": key}
            ).scalar()
        )


def item(db: Database, item_id: int) -> Row[Any]:
    with db.read() as conn:
        return conn.execute(select(work_items).where(work_items.c.id == item_id)).one()


def attempts(db: Database, node_id: str) -> list[tuple[str, int | None]]:
    """(kind, attempt) of the timeline lines a node wrote, in order."""
    with db.read() as conn:
        rows = conn.execute(
            select(run_steps.c.kind, run_steps.c.attempt)
            .where(run_steps.c.node_id == node_id)
            .order_by(run_steps.c.id)
        )
        return [(r.kind, r.attempt) for r in rows]


def claim(db: Database, owner: str, now: datetime, limit: int = 10) -> list[Claim]:
    with db.write() as conn:
        return leases.claim_due(conn, owner, now, LEASE, limit)


def records(claims: list[Claim]) -> set[str]:
    return {c.record_lock for c in claims}


def without_waiting(conn: Connection, look: Callable[[], T]) -> T:
    """Run a claim or sweep on a connection whose transaction must not wait for another
    engine's uncommitted locks: waiting there would serialize the engines."""
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
    try:
        return look()
    except OperationalError as exc:
        pytest.fail(f"it waited for another engine's uncommitted claim: {exc}")


def two_notes_per_record(db: Database, clock: ManualClock, keys: range) -> dict[str, list[int]]:
    """Two pending items for each of these orders (parallel branches of one run), due
    now; returns their ids by record lock."""
    shop(db, clock)
    g = Builder("Two notes on shipping")
    start = g.node("trigger.status_entered", codes=["SHP"])
    g.link(start, g.node("action.add_note", note="one"))
    g.link(start, g.node("action.add_note", note="two"))
    publish(db, g.document(), clock)
    for key in keys:
        move(db, key, "SHP")
    engine(db, clock).ingest_events()
    with db.read() as conn:
        rows = conn.execute(select(work_items.c.id, work_items.c.record_lock)).all()
    by_record: dict[str, list[int]] = {}
    for row in sorted(rows):
        by_record.setdefault(row.record_lock, []).append(row.id)
    assert len(by_record) == len(keys) and all(len(ids) == 2 for ids in by_record.values())
    return by_record


# -- 1. a late finish ------------------------------------------------------------------


def test_a_late_finish_after_a_take_over_is_refused_and_runs_nothing_twice(
    db: Database, clock: ManualClock, smtp_server: SmtpServer
) -> None:
    """An engine that hung past its lease and then finishes must not commit its step:
    the rescuer already did it, and the step here appends (a repeat shows as 'xx') and
    is followed by an email (a repeat shows at the server)."""
    shop(db, clock)
    mail_settings(db, smtp_server.profile())
    g = Builder("Mark, wait, then email")
    mark = g.node("action.set_field", field="customer_name", value="{{ customer_name }}x")
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]),
        mark,
        g.node("wait.duration", duration={"amount": 1, "unit": "hours"}),
        g.node("action.send_email", to="{{ email }}", subject="Delivered", body_text="Hi."),
    )
    publish(db, g.document(), clock)
    hung = engine(db, clock)
    name = customer_name(db, 8)
    move(db, 8, "DEL")
    hung.ingest_events()
    [stale] = claim(db, hung.id, clock.now())
    clock.advance(LATER)

    rescuer = Engine(db, clock=clock, lease=LEASE)
    rescuer.run_until_idle()  # takes the item over, marks, starts the wait
    assert customer_name(db, 8) == f"{name}x"
    done = item(db, stale.id)
    assert (done.state, done.attempt) == ("done", 2)

    with pytest.raises(LeaseLost), db.write() as conn:  # the batch path says so by raising
        hung.dispatcher.run_batch(conn, [stale], LEASE, together=True)
    with db.write() as conn:  # step by step, the step's savepoint is rolled back
        hung.dispatcher.run_batch(conn, [stale], LEASE)
    with db.write() as conn:
        assert leases.complete(conn, [stale], hung.id, clock.now()) is False
    assert tuple(item(db, stale.id)) == tuple(done)  # the late result is not recorded

    clock.advance(timedelta(hours=1))
    rescuer.run_until_idle()
    smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    assert customer_name(db, 8) == f"{name}x"
    assert [kind for kind, _ in attempts(db, mark.id)] == ["retry", "action"]
    assert run_states(db) == [("8", "succeeded")]


# -- 2. only the holder of the lease, at its attempt, may finish -----------------------


def test_only_the_owner_at_the_current_attempt_may_finish_renew_or_reschedule(
    db: Database, clock: ManualClock
) -> None:
    """The owner and the attempt are the fence: another engine's ids are not enough,
    and neither is this engine's own claim from before a take-over."""
    (mine, [held_id, next_id]), (other_record, [other_id, last_id]) = two_notes_per_record(
        db, clock, range(3, 5)
    ).items()
    owner, stranger = new_id(), new_id()
    [held] = claim(db, owner, clock.now(), limit=1)
    assert (held.id, held.record_lock, held.attempt) == (held_id, mine, 1)

    with db.write() as conn:
        assert leases.complete(conn, [held], stranger, clock.now()) is False
    with db.write() as conn:
        assert not leases.renew(conn, held, stranger, clock.now(), LEASE)
        assert not leases.reschedule(conn, held, stranger, clock.now(), {}, keep_attempts=True)
        assert leases.release(conn, [held], stranger) == 0
    row = item(db, held.id)
    assert (row.state, row.lease_owner, row.attempt) == ("claimed", owner, 1)
    assert row.lease_expires_at == clock.now() + LEASE

    clock.advance(timedelta(seconds=20))  # a slow step renews: nobody may take it yet
    with db.write() as conn:
        assert leases.renew(conn, held, owner, clock.now(), LEASE)
    assert item(db, held.id).lease_expires_at == clock.now() + LEASE
    with db.read() as conn:
        assert leases.expired(conn, clock.now() + LEASE - timedelta(seconds=1)) == []
        assert leases.expired(conn, clock.now() + LEASE) == []  # held up to its last moment
    clock.advance(LATER)
    with db.write() as conn:  # it ran out: handed back, and this engine claims it again
        [expired] = leases.expired(conn, clock.now())
        assert (expired.id, expired.attempt) == (held.id, 1)
        leases.take_over(conn, expired)
    [again] = claim(db, owner, clock.now(), limit=1)
    assert (again.id, again.attempt) == (held.id, 2)

    with db.write() as conn:  # the claim from before the take-over is stale
        assert leases.complete(conn, [held], owner, clock.now()) is False
    with db.write() as conn:
        assert not leases.renew(conn, held, owner, clock.now(), LEASE)
        assert not leases.reschedule(conn, held, owner, clock.now(), {}, keep_attempts=True)
        assert leases.release(conn, [held], owner) == 0
    with db.write() as conn:
        forged = dataclasses.replace(again, attempt=again.attempt + 1)
        assert leases.complete(conn, [forged], owner, clock.now()) is False
    row = item(db, held.id)
    assert (row.state, row.lease_owner, row.attempt) == ("claimed", owner, 2)

    [other] = claim(db, owner, clock.now(), limit=1)
    assert (other.id, other.record_lock, other.attempt) == (other_id, other_record, 1)
    with pytest.raises(LeaseLost), db.write() as conn:  # one stale item fails the batch
        if not leases.complete(conn, [other, held], owner, clock.now()):
            raise LeaseLost  # as the journal does, so that the batch rolls back
    with db.write() as conn:  # a batch of items at different attempts is all marked
        assert leases.complete(conn, [again, other], owner, clock.now()) is True
    for item_id in (held_id, other_id):
        row = item(db, item_id)
        assert (row.state, row.lease_owner, row.completed_at) == ("done", None, clock.now())
    followers = claim(db, stranger, clock.now())  # both records are free again
    assert sorted(c.id for c in followers) == [next_id, last_id]
    with db.write() as conn:  # a graceful stop hands back every item it holds
        assert leases.release(conn, followers, stranger) == 2
    for item_id in (next_id, last_id):
        row = item(db, item_id)
        assert (row.state, row.lease_owner, row.attempt) == ("pending", None, 0)


# -- 3. one item per record at a time ---------------------------------------------------


def test_a_record_with_a_claimed_item_gives_no_second_item_to_anyone(
    db: Database, clock: ManualClock
) -> None:
    """Steps of one record must not run side by side (they read and write the same
    record); and a busy record's items must not take the places of other records'."""
    by_record = two_notes_per_record(db, clock, range(1, 4))
    first_record, second_record, third_record = by_record  # in the order they fell due
    engine_a, engine_b = new_id(), new_id()

    a = claim(db, engine_a, clock.now(), limit=1)
    b = claim(db, engine_b, clock.now(), limit=1)
    assert [c.id for c in a] == [by_record[first_record][0]]
    assert records(b) == {second_record}, "the busy record's second item was handed out"

    rest = claim(db, engine_b, clock.now())
    assert [c.record_lock for c in rest] == [third_record]  # one per record in a batch
    assert claim(db, engine_a, clock.now()) == []  # every record is busy
    held = a + b + rest
    assert len(records(held)) == len(held) == 3

    with db.write() as conn:
        assert leases.complete(conn, a, engine_a, clock.now())
    [next_one] = claim(db, engine_b, clock.now())
    assert next_one.id == by_record[first_record][1]


def test_a_batch_is_filled_with_other_records_not_cut_short_by_a_records_second_item(
    db: Database, clock: ManualClock
) -> None:
    """Items of one record fall due together (parallel branches); a batch of two must
    not stop at the first record's two items. SQLite looks further ahead than the
    batch; PostgreSQL locks only the rows it may claim, so its batch may come up short
    (the next round takes the rest), but never holds a record twice."""
    first, second = two_notes_per_record(db, clock, range(1, 3))
    batch = claim(db, new_id(), clock.now(), limit=2)
    assert [c.record_lock for c in batch] == ([first] if db.is_postgresql else [first, second])


@pytest.mark.postgres
def test_two_open_claims_on_postgresql_skip_each_others_rows_and_records(
    pg: Database, clock: ManualClock
) -> None:
    """While one engine's claim is uncommitted, another's must neither wait for it
    (SKIP LOCKED) nor take a second item of a record it holds (the advisory lock):
    nothing committed yet tells the second engine the record is busy."""
    by_record = two_notes_per_record(pg, clock, range(1, 4))
    first, second, third = by_record
    due = {  # r1a, r2a, r1b, r2b, r3a, r3b: the first claim locks r1a and r2a only
        by_record[first][0]: 0,
        by_record[second][0]: 1,
        by_record[first][1]: 2,
        by_record[second][1]: 3,
        by_record[third][0]: 4,
        by_record[third][1]: 5,
    }
    with pg.write() as conn:
        for item_id, minutes in due.items():
            conn.execute(
                update(work_items)
                .where(work_items.c.id == item_id)
                .values(due_at=clock.now() - timedelta(minutes=10 - minutes))
            )

    with pg.write() as one, pg.write() as two:
        a = leases.claim_due(one, new_id(), clock.now(), LEASE, 2)
        assert records(a) == {first, second}
        b = without_waiting(two, lambda: leases.claim_due(two, new_id(), clock.now(), LEASE, 3))
        assert records(b) == {third}  # it locked r1b, r2b and r3a: only r3 was free
    with pg.write() as conn:
        assert leases.claim_due(conn, new_id(), clock.now(), LEASE, 10) == []

    later = clock.now() + LATER  # both engines died; two others sweep at once
    with pg.write() as one, pg.write() as two:
        swept = leases.expired(one, later, limit=2)
        also = without_waiting(two, lambda: leases.expired(two, later))
    assert len(swept) == 2 and len(also) == 1
    assert {c.id for c in swept + also} == {c.id for c in a + b}


@pytest.mark.postgres
def test_a_claim_committed_while_another_engine_looks_keeps_its_record_busy(
    pg: Database, clock: ManualClock
) -> None:
    """Between a claim's look for busy records and its lock on the record, another
    engine may commit a claim of that record (and so release its lock): the record is
    busy all the same, which only a second look after taking the lock can see."""
    [(record, [first, second])] = two_notes_per_record(pg, clock, range(1, 2)).items()
    with pg.engine.connect() as one:
        one.begin()
        [a] = leases.claim_due(one, new_id(), clock.now(), LEASE, 1)

        def commit_first(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "pg_try_advisory_xact_lock" in statement and one.in_transaction():
                one.commit()

        with pg.write() as two:
            event.listen(two, "before_cursor_execute", commit_first)
            b = without_waiting(two, lambda: leases.claim_due(two, new_id(), clock.now(), LEASE, 1))
    assert (a.id, a.record_lock) == (first, record)
    assert b == [], f"item {second} of a busy record was claimed"
    assert not one.in_transaction()  # the first claim did commit in between


@pytest.mark.postgres
def test_engines_claiming_at_the_same_moment_on_postgresql_get_disjoint_records(
    pg: Database, clock: ManualClock
) -> None:
    """Two engines claim at once and keep their transactions open until both have
    claimed: with SKIP LOCKED neither waits for the other, and no record is in both
    batches. (Without it the second claim waits for the first commit, which waits
    for the second claim: its lock timeout fails the test in a second or two.)"""
    two_notes_per_record(pg, clock, range(1, 7))
    start = threading.Barrier(2, timeout=10)
    both_claimed = threading.Barrier(2, timeout=10)
    claimed: dict[int, list[Claim]] = {}
    errors: list[BaseException] = []

    def engine_thread(number: int) -> None:
        try:
            with pg.write() as conn:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
                start.wait()
                claimed[number] = leases.claim_due(conn, new_id(), clock.now(), LEASE, 3)
                both_claimed.wait()
        except BaseException as exc:
            errors.append(exc)
            both_claimed.abort()  # the other must not wait for a claim that failed

    threads = [threading.Thread(target=engine_thread, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    locked = [e for e in errors if isinstance(e, OperationalError)]
    assert not locked, f"a claim waited for the other engine's rows: {locked[0]}"
    assert not errors, errors
    one, two = claimed[1], claimed[2]
    assert len(records(one) | records(two)) >= 3  # six rows locked cover three records
    assert not {c.id for c in one} & {c.id for c in two}
    assert not records(one) & records(two)
    assert len(records(one)) == len(one) and len(records(two)) == len(two)


# -- 4. attempts ----------------------------------------------------------------------


def test_attempts_count_each_try_of_a_retried_email_and_restart_after_a_wait(
    db: Database, clock: ManualClock, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attempt decides when retries stop and is shown on the timeline: a wait's
    second look is not a retry, each failed send is one, and a graceful stop that
    hands an item back untouched does not count."""
    shop(db, clock)
    mail_settings(db, smtp_server.profile())
    tries: list[int] = []
    accept = smtp_server.collector.handle_DATA

    async def busy_twice(server: Any, session: Any, envelope: Any) -> str:
        tries.append(len(tries) + 1)
        if len(tries) <= 2:
            return "451 4.3.0 Try again later"
        return await accept(server, session, envelope)

    monkeypatch.setattr(smtp_server.collector, "handle_DATA", busy_twice)
    g = Builder("Wait, then email")
    wait = g.node("wait.duration", duration={"amount": 1, "unit": "hours"})
    send = g.node(
        "action.send_email",
        to="{{ email }}",
        subject="Shipped",
        body_text="On its way.",
        retry_attempts=4,
        retry_backoff={"amount": 30, "unit": "seconds"},
    )
    g.line(g.node("trigger.status_entered", codes=["SHP"]), wait, send)
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    move(db, 5, "SHP")
    worker.run_until_idle()

    clock.advance(timedelta(hours=1))
    worker.run_until_idle()  # the wait fires; the first send is refused
    with db.read() as conn:
        [retry] = conn.execute(select(work_items).where(work_items.c.node_id == send.id)).all()
    assert (retry.state, retry.attempt) == ("pending", 1)

    clock.advance(retry.due_at - clock.now())
    with db.write() as conn:  # an engine stopping gracefully hands the item back
        [handed] = leases.claim_due(conn, worker.id, clock.now(), LEASE, 10)
        assert handed.attempt == 2
        assert leases.release(conn, [handed], worker.id) == 1
    assert (item(db, retry.id).state, item(db, retry.id).attempt) == ("pending", 1)

    for _ in range(2):
        worker.run_until_idle()
        clock.advance(timedelta(minutes=5))  # past the backoff of either retry
    worker.run_until_idle()

    assert tries == [1, 2, 3]
    smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1
    assert attempts(db, wait.id) == [("wait", 1), ("wait", 1)]
    assert attempts(db, send.id) == [("retry", 1), ("retry", 2), ("action", 3)]
    failed = [s for s in timeline(db, "5") if s.startswith("Attempt ")]
    assert [s.split(" failed")[0] for s in failed] == ["Attempt 1 of 4", "Attempt 2 of 4"]
    assert (item(db, retry.id).state, item(db, retry.id).attempt) == ("done", 3)
    assert run_states(db) == [("5", "succeeded")]


# -- 5. a take-over keeps what the item carries ------------------------------------------


def test_a_take_over_keeps_the_payload_and_counts_the_attempt(
    db: Database, clock: ManualClock
) -> None:
    """A wait's item carries its phase: wiped by a take-over, the wait would start over
    (and a run waiting a day would wait another day each time an engine dies)."""
    shop(db, clock)
    g = Builder("Wait an hour, then mark")
    wait = g.node("wait.duration", duration={"amount": 1, "unit": "hours"})
    g.line(
        g.node("trigger.status_entered", codes=["SHP"]),
        wait,
        g.node("action.set_field", field="customer_name", value="{{ customer_name }}x"),
    )
    publish(db, g.document(), clock)
    died = engine(db, clock)
    name = customer_name(db, 9)
    move(db, 9, "SHP")
    died.run_until_idle()  # the wait begins

    clock.advance(timedelta(hours=1))
    [held] = claim(db, died.id, clock.now())  # then the engine dies holding it
    assert (held.node_id, held.payload, held.attempt) == (wait.id, {"phase": "waiting"}, 1)
    clock.advance(LATER)
    rescuer = Engine(db, clock=clock, lease=LEASE)
    assert rescuer.sweep() == 1
    row = item(db, held.id)
    assert (row.state, row.lease_owner, row.lease_expires_at) == ("pending", None, None)
    assert (row.payload, row.attempt) == ({"phase": "waiting"}, 1)

    rescuer.run_until_idle()

    assert customer_name(db, 9) == f"{name}x"
    waits = [s for s in timeline(db, "9") if s.startswith("Wait")]
    assert waits[0].startswith("Waiting 1 hour") and waits[1:] == ["Waited 1 hour."]
    assert attempts(db, wait.id) == [("wait", 1), ("retry", 1), ("wait", 2)]
    assert run_states(db) == [("9", "succeeded")]


# -- 6. when the engine wakes next -------------------------------------------------------


def test_an_idle_engine_wakes_when_the_next_pending_item_falls_due(
    db: Database, clock: ManualClock
) -> None:
    """An idle engine sleeps until its next item falls due: the earliest one (a later
    one would fire the first wait late), strictly after now (an item due now is work,
    not a reason to sleep), and only pending ones (an item another engine holds is not
    this engine's to wake for)."""
    shop(db, clock)
    g = Builder("Wait one hour and two hours")
    start = g.node("trigger.status_entered", codes=["SHP"])
    g.link(start, g.node("wait.duration", duration={"amount": 1, "unit": "hours"}))
    g.link(start, g.node("wait.duration", duration={"amount": 2, "unit": "hours"}))
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    move(db, 6, "SHP")
    worker.run_until_idle()
    begun = clock.now()
    assert worker.next_due() == begun + timedelta(hours=1)

    clock.advance(timedelta(hours=1))  # the first wait is due now: the next is later
    assert worker.next_due() == begun + timedelta(hours=2)
    [held] = claim(db, new_id(), clock.now())  # another engine holds the first wait
    clock.set(begun)
    assert worker.next_due() == begun + timedelta(hours=2)

    clock.set(begun + timedelta(hours=2))  # the holder died; both waits end
    worker.run_until_idle()
    assert worker.next_due() is None
    assert item(db, held.id).state == "done"
    assert run_states(db) == [("6", "succeeded")]
