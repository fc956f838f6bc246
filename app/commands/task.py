"""``statusflow task``: the human task inbox — list, read, tick documents, and decide.

Deciding only records the decision; the run itself moves on when an engine next
runs, which is what the confirmation sentence tells the person. The rules for deciding
(a rejection says why, unticked documents need a reason) are the task service's; the
options here only carry the words to it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, tzinfo

from app.context import Context
from engine.services import inbox as tasks
from engine.time_zone import moment_text

DECISIONS = ("approve", "reject", "done", "abandon")
COMMENT_HELP = {"reject": "why you reject it (needed: the people who asked read it)"}
ACCEPTING = ("approve", "done")  # decisions that vouch for the checklist
STATE_SENTENCES = {
    "approved": "The run continues when the engine next runs.",
    "rejected": "The run takes its 'Rejected' branch when the engine next runs.",
    "done": "The run continues when the engine next runs.",
    "abandoned": "Its run ended as failed.",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("task", help="your task inbox: approvals and manual work")
    task_sub = parser.add_subparsers(dest="task_command", metavar="ACTION", required=True)

    listing = task_sub.add_parser("list", help="open tasks, soonest due first")
    listing.add_argument("--mine", action="store_true", help="only tasks for you or your roles")
    listing.add_argument("--all", action="store_true", help="decided tasks too")
    listing.set_defaults(func=list_tasks)

    give = task_sub.add_parser("reassign", help="give an open task to someone else (admins)")
    give.add_argument("id", type=int)
    to = give.add_mutually_exclusive_group(required=True)
    to.add_argument("--to-user", metavar="USER", help="the person who decides it now")
    to.add_argument("--to-role", metavar="ROLE", help="any member of this role decides it")
    give.set_defaults(func=reassign_task)

    show = task_sub.add_parser("show", help="a task's instructions, checklist and context")
    show.add_argument("id", type=int)
    show.set_defaults(func=show_task)

    tick = task_sub.add_parser("tick", help="tick a document on a task's checklist")
    tick.add_argument("id", type=int)
    tick.add_argument("document", help="the document's name as the checklist shows it")
    tick.add_argument("--untick", action="store_true", help="take the tick back")
    tick.set_defaults(func=tick_document)

    for decision in DECISIONS:
        decide = task_sub.add_parser(decision, help=f"{decision} a task")
        decide.add_argument("id", type=int)
        decide.add_argument(
            "--comment", default="", metavar="TEXT", help=COMMENT_HELP.get(decision)
        )
        if decision in ACCEPTING:
            decide.add_argument(
                "--unticked-reason",
                default="",
                metavar="TEXT",
                help="why you go ahead with checklist documents unticked (needed then; "
                "recorded with the decision)",
            )
        decide.set_defaults(func=decide_task, decision=decision)


def _assignee(task: tasks.TaskInfo) -> str:
    if task.assignee_user:
        return task.assignee_user
    return f"role {task.assignee_role}" if task.assignee_role else "anyone"


def _due(task: tasks.TaskInfo, now: datetime, zone: tzinfo) -> str:
    if task.due_at is None:
        return "no due time"
    late = task.state == "open" and task.due_at < now
    return moment_text(task.due_at, zone) + ("  OVERDUE" if late else "")


def list_tasks(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.actor if args.mine else ""
    found = tasks.tasks_for(ctx.database(), actor, mine=args.mine, open_only=not args.all)
    if not found:
        print("No tasks are waiting." if not args.all else "There are no tasks.")
    now = datetime.now(UTC)
    for task in found:
        state = f"  [{task.state}]" if args.all else ""
        print(
            f"{task.id:>5}  {tasks.KIND_WORDS[task.kind]:<15} {task.title}  — "
            f"{_assignee(task)}, {_due(task, now, ctx.zone())}{state}"
        )
    return 0


def _context_lines(task: tasks.TaskInfo) -> list[str]:
    context = task.context
    lines = []
    if context.get("source") and context.get("record_key"):
        lines.append(f"Record: {context['source']} {context['record_key']}")
    if context.get("error"):
        lines.append(f"What went wrong: {context['error']}")
    record = context.get("record") or {}
    if record:
        lines.append("Record fields:")
        lines.extend(f"  {name}: {value}" for name, value in record.items())
    return lines


def _checklist_lines(task: tasks.TaskInfo, zone: tzinfo) -> list[str]:
    lines = []
    for document in task.checklist:
        tick = task.ticks.get(document)
        by = f"  (ticked by {tick.by} on {moment_text(tick.at, zone)})" if tick else ""
        lines.append(f"  [{'x' if tick else ' '}] {document}{by}")
    return lines


def show_task(ctx: Context, args: argparse.Namespace) -> int:
    task = tasks.read_task(ctx.database(), args.id)
    lines = [
        f"Task {task.id} ({tasks.KIND_WORDS[task.kind]}, {task.state}): {task.title}",
        f"Assigned to {_assignee(task)}; due: {_due(task, datetime.now(UTC), ctx.zone())}",
    ]
    if task.instructions:
        lines += ["", task.instructions]
    if task.checklist:
        lines += ["", "Checklist:", *_checklist_lines(task, ctx.zone())]
    extra = _context_lines(task)
    if extra:
        lines += ["", *extra]
    if task.decided_by and task.decided_at:
        said = f": {task.comment}" if task.comment else ""
        lines += [
            "",
            f"{task.state.capitalize()} by {task.decided_by} on "
            f"{moment_text(task.decided_at, ctx.zone())}{said}",
        ]
        if task.state in tasks.ACCEPTED and task.unticked:
            why = f"Reason given: {task.unticked_reason}" if task.unticked_reason else ""
            listed = ", ".join(f"'{document}'" for document in task.unticked)
            lines.append(f"Not ticked: {listed}. {why or 'No reason was recorded.'}")
    elif task.state == "open":
        choices = " or ".join(
            f"'statusflow task {d} {task.id}'" for d in tasks.DECISIONS[task.kind]
        )
        lines += ["", f"Decide with {choices}."]
    print("\n".join(lines))
    return 0


def decide_task(ctx: Context, args: argparse.Namespace) -> int:
    task = tasks.decide(
        ctx.database(),
        args.id,
        args.decision,
        actor=ctx.actor,
        comment=args.comment,
        unticked_reason=getattr(args, "unticked_reason", ""),
    )
    follows = (
        STATE_SENTENCES[task.state] if task.run_id and task.kind in tasks.BLOCKING_TASKS else ""
    )
    print(f"Task {task.id} {task.state}. {follows}".rstrip())
    return 0


def reassign_task(ctx: Context, args: argparse.Namespace) -> int:
    task = tasks.reassign(
        ctx.database(), args.id, user=args.to_user, role=args.to_role, actor=ctx.actor
    )
    who = task.assignee_user or f"anyone with the {task.assignee_role} role"
    print(f"Task {task.id} is now for {who} to decide.")
    return 0


def tick_document(ctx: Context, args: argparse.Namespace) -> int:
    task = tasks.tick_document(
        ctx.database(), args.id, args.document, ticked=not args.untick, actor=ctx.actor
    )
    done = len(task.checklist) - len(task.unticked)
    print(f"Task {task.id} checklist ({done} of {len(task.checklist)} ticked):")
    print("\n".join(_checklist_lines(task, ctx.zone())))
    return 0
