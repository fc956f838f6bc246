"""The bypasses issue 10 found, each closed in the engine's services (its front door),
so the command line, the designer and scripts meet the same refusal.

Each test failed on the code before: a designer decided an approval meant for the
publisher role, letter case got past four-eyes, anyone started runs by hand and read
runs and the audit log, and enabling a graph skipped the loop check.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.governance import users
from engine.permissions import PermissionDenied
from engine.runtime import tasks as task_store
from engine.services import audit, inbox, review, runs
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import publish, shop
from tests.engine.test_loops import status_graph

TEAM = {"ann": "admin", "dee": "designer", "pia": "publisher", "ben": "operator"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))


@pytest.fixture
def team(db: Database, clock: ManualClock) -> Database:
    """The demo shop with a hand-started graph published, then four accounts."""
    shop(db, clock)
    g = Builder("Call the customer", "orders")
    g.line(g.node("trigger.manual"), g.node("action.add_note", note="Call them."))
    publish(db, g.graph.to_document(), clock)
    for name, role in TEAM.items():
        users.add_user(db, name, display_name=name.title(), roles=[role], actor="ann")
    return db


def new_task(db: Database, clock: ManualClock, *, role: str | None = None, user: str | None = None
             ) -> int:  # fmt: skip
    with db.write() as conn:
        return task_store.create_task(
            conn, kind="approval", title="Price approval", assignee_role=role,
            assignee_user=user, clock=clock,
        )  # fmt: skip


def state_of(db: Database, task_id: int) -> str:
    return inbox.read_task(db, task_id).state


# -- tasks are decided by their assignee, their role, or an admin ----------------------


def test_a_designer_cannot_decide_an_approval_meant_for_publishers(
    team: Database, clock: ManualClock
) -> None:
    task_id = new_task(team, clock, role="publisher")

    with pytest.raises(PermissionDenied) as refused:
        inbox.decide(team, task_id, "approve", actor="dee", clock=clock)

    assert str(refused.value) == (
        f"Task {task_id} is for the publisher role, so only a publisher or an admin can "
        f"work it; an admin can reassign it with 'statusflow task reassign {task_id}'."
    )
    assert state_of(team, task_id) == "open"
    assert inbox.decide(team, task_id, "approve", actor="pia", clock=clock).state == "approved"


def test_a_task_for_one_person_is_theirs_alone_whatever_the_letter_case(
    team: Database, clock: ManualClock
) -> None:
    task_id = new_task(team, clock, role="publisher", user="Ben")

    with pytest.raises(PermissionDenied, match="assigned to ben, so only ben"):
        inbox.decide(team, task_id, "approve", actor="pia", clock=clock)
    with pytest.raises(PermissionDenied):
        inbox.tick_document(team, task_id, "anything", actor="pia", clock=clock)

    assert inbox.decide(team, task_id, "approve", actor=" BEN ", clock=clock).state == "approved"


def test_an_admin_reassigns_a_task_and_the_audit_log_says_from_whom(
    team: Database, clock: ManualClock
) -> None:
    task_id = new_task(team, clock, role="publisher")
    with pytest.raises(PermissionDenied, match="reassigning a task needs the admin role"):
        inbox.reassign(team, task_id, user="dee", actor="pia", clock=clock)

    moved = inbox.reassign(team, task_id, user="DEE", actor="ann", clock=clock)

    assert (moved.assignee_user, moved.assignee_role) == ("dee", None)
    assert inbox.decide(team, task_id, "approve", actor="dee", clock=clock).state == "approved"
    [entry] = audit.read_audit(team, "ann", action="task.reassign")
    assert entry.summary == "ann gave the approval 'Price approval' to dee"
    assert (entry.before, entry.after) == (
        {"user": None, "role": "publisher"},
        {"user": "dee", "role": None},
    )


def test_a_task_cannot_be_given_to_someone_without_an_account(
    team: Database, clock: ManualClock
) -> None:
    task_id = new_task(team, clock, role="publisher")
    with pytest.raises(StatusFlowError, match="There is no StatusFlow user 'zed'"):
        inbox.reassign(team, task_id, user="zed", actor="ann", clock=clock)
    with pytest.raises(StatusFlowError, match="'boss' is not a role"):
        inbox.reassign(team, task_id, role="boss", actor="ann", clock=clock)
    assert inbox.read_task(team, task_id).assignee_role == "publisher"


def test_the_inbox_shows_each_person_their_own_tasks_with_what_they_may_do(
    team: Database, clock: ManualClock
) -> None:
    for_publishers = new_task(team, clock, role="publisher")
    for_ben = new_task(team, clock, user="ben")
    now = clock.now()

    def seen(actor: str) -> dict[int, str | None]:
        return {item.task.id: item.why_not for item in inbox.load_inbox(team, actor, now)}

    assert seen("pia") == {for_publishers: None}
    assert seen("ben") == {for_ben: None}
    assert seen("dee") == {}
    assert seen("ann") == {for_publishers: None, for_ben: None}  # admins may decide all


def test_a_task_for_nobody_in_particular_is_anyones_who_works_tasks(
    team: Database, clock: ManualClock
) -> None:
    task_id = new_task(team, clock)  # neither a person nor a role

    assert inbox.decide(team, task_id, "approve", actor="ben", clock=clock).decided_by == "ben"


def test_a_deactivated_person_sees_their_task_but_may_not_decide_it(
    team: Database, clock: ManualClock
) -> None:
    task_id = new_task(team, clock, user="ben")
    users.deactivate(team, "ben", actor="ann")

    [item] = inbox.load_inbox(team, "ben", clock.now())

    assert item.task.id == task_id
    assert item.why_not == (
        "ben's StatusFlow account is deactivated, so working a task is not possible. "
        "Ask an admin to reactivate it."
    )
    with pytest.raises(PermissionDenied, match="deactivated"):
        inbox.decide(team, task_id, "approve", actor="ben", clock=clock)


# -- four-eyes holds whatever the letter case -------------------------------------------


@pytest.mark.parametrize("approver", ["PIA", " Pia "])
def test_letter_case_does_not_get_past_four_eyes(
    team: Database, clock: ManualClock, approver: str
) -> None:
    users.set_roles(team, "pia", ["designer", "publisher"], actor="ann")
    version = review.submit(team, "Call the customer", actor="pia", clock=clock)

    with pytest.raises(StatusFlowError) as refused:
        review.approve(team, version.id, actor=approver, clock=clock)

    assert str(refused.value) == (
        f"You wrote {version.label}, so someone else must approve it (four-eyes rule)."
    )
    with team.read() as conn:
        assert review.get_version(conn, version.id).state == "in_review"


def test_the_review_answer_carries_the_four_eyes_reason_for_the_author(
    team: Database, clock: ManualClock
) -> None:
    users.set_roles(team, "pia", ["designer", "publisher"], actor="ann")
    review.submit(team, "Call the customer", actor="pia", clock=clock)
    users.add_user(team, "pat", display_name="Pat", roles=["publisher"], actor="ann")

    own = review.load_review_state(team, "PIA", "Call the customer").rows[-1]
    other = review.load_review_state(team, "pat", "Call the customer").rows[-1]

    assert not own.may("graph.approve") and own.may("graph.reject")
    assert own.why_not == (
        f"You wrote {own.info.label}, so someone else must approve it (four-eyes rule)."
    )
    assert other.may("graph.approve") and other.why_not is None
    assert other.refusals["graph.publish"] == (
        f"{other.info.label} is in review; only an approved version can be published."
    )


# -- starting runs by hand, reading runs and the audit log --------------------------


@pytest.mark.parametrize(
    ("actor", "sentence"),
    [
        ("ben", "ben is an operator; starting a run by hand needs the publisher role."),
        ("nobody", "There is no StatusFlow user 'nobody' in this database"),
        ("gus", "gus's StatusFlow account is deactivated"),
    ],
)
def test_starting_a_run_by_hand_needs_the_publisher_role(
    team: Database, clock: ManualClock, actor: str, sentence: str
) -> None:
    users.add_user(team, "gus", display_name="Gus", roles=["publisher"], actor="ann")
    users.deactivate(team, "gus", actor="ann")

    with pytest.raises(PermissionDenied) as refused:
        runs.start_manual(team, "Call the customer", "orders", "1", actor=actor, clock=clock)

    assert str(refused.value).startswith(sentence)
    assert runs.find_runs(team, "pia", graph="Call the customer") == []
    runs.start_manual(team, "Call the customer", "orders", "1", actor="pia", clock=clock)
    assert len(runs.find_runs(team, "pia", graph="Call the customer")) == 1


def test_reading_runs_and_the_audit_log_needs_an_account_with_the_right_role(
    team: Database,
) -> None:
    with pytest.raises(PermissionDenied, match="no StatusFlow user 'nobody'"):
        runs.find_runs(team, "nobody")
    with pytest.raises(PermissionDenied, match="no StatusFlow user 'nobody'"):
        runs.record_timeline(team, "nobody", "orders", "1")
    with pytest.raises(PermissionDenied, match="reading the audit log needs the publisher role"):
        audit.read_audit(team, "ben")

    assert runs.record_timeline(team, "ben", "orders", "1") == []
    assert [e.action for e in audit.read_audit(team, "pia", action="user.add")] == [
        "user.add"
    ] * len(TEAM)


# -- enabling a graph checks for loops again ------------------------------------------


def test_enabling_a_graph_that_now_closes_a_loop_is_refused_unless_an_admin_overrides(
    team: Database, clock: ManualClock
) -> None:
    users.add_user(team, "ana", display_name="Ana", roles=["designer"], actor="ann")
    users.set_roles(team, "ben", ["publisher"], actor="ann")  # support.publish's reviewer
    publish(team, status_graph("Graph A", "ASN", "DEL").to_document(), clock)
    review.set_enabled(team, "Graph A", False, actor="pia", clock=clock)
    publish(team, status_graph("Graph B", "DEL", "ASN").to_document(), clock)  # no loop now

    with pytest.raises(review.LoopRefused) as refused:
        review.set_enabled(team, "Graph A", True, actor="pia", clock=clock)

    loop = "Graph A sets DEL → Graph B starts on DEL and sets ASN → Graph A starts on ASN"
    assert refused.value.cycles == (loop,)
    assert str(refused.value) == (
        f"Enabling 'Graph A' would make graphs trigger each other in a loop: {loop}. "
        "Change one of them, or (admins) enable it anyway with a reason."
    )
    with pytest.raises(PermissionDenied, match="overriding the loop guard needs the admin"):
        review.set_enabled(team, "Graph A", True, actor="pia", override_loop="x", clock=clock)

    review.set_enabled(team, "Graph A", True, actor="ann", override_loop="Stops at B", clock=clock)

    [override] = audit.read_audit(team, "ann", action="graph.loop_override")
    assert (
        override.summary == f"Enabled 'Graph A' (V1.0) despite a loop ({loop}). Reason: Stops at B"
    )
