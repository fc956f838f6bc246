"""What the versions panel asks before it acts, and what it says after a rollback.

Each question names the version and the graph, says what will happen, and asks for
what the service needs: a change note, a comment, a reason for the audit log.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from designer.ask_dialog import ask
from engine.services import review as versions


def submit_note(parent: QWidget, graph_name: str) -> tuple[str, bool] | None:
    """The change note and whether it is a new major version; None: not submitted."""
    return ask(
        parent,
        "Submit for review",
        f"Submit the saved draft of '{graph_name}' for review. "
        "What changed, and why? A publisher reads this before approving.",
        text="For example: the reminder now waits 2 hours instead of 1.",
        tick="This is a new major version (V2.0 rather than the next V1.x)",
        ok="Submit",
    )


def approval_comment(parent: QWidget, label: str) -> str | None:
    """The (optional) comment for the author; None: not approved."""
    answer = ask(
        parent,
        f"Approve {label}",
        f"Approve {label}? A comment for the author is optional.",
        text="Comment (optional)",
        ok="Approve",
    )
    return None if answer is None else answer[0]


def rejection_comment(parent: QWidget, label: str) -> str | None:
    """What needs to change (required); None: not rejected."""
    answer = ask(
        parent,
        f"Reject {label}",
        f"Why is {label} rejected? The author reads this to put it right.",
        text="What needs to change",
        required=True,
        ok="Reject",
    )
    return None if answer is None else answer[0]


def override_reason(parent: QWidget, title: str, refusal: Exception) -> str | None:
    """Ask an admin whether to publish past a loop anyway; their reason, or None."""
    anyway = QMessageBox.question(
        parent,
        title,
        f"{refusal}\n\nAs an admin you may publish anyway, giving a reason that is kept in "
        "the audit log. Publish anyway?",
    )
    if anyway != QMessageBox.StandardButton.Yes:
        return None
    answer = ask(
        parent,
        "Publish anyway",
        "Why is it safe to publish despite the loop? This is kept in the audit log.",
        text="Reason",
        required=True,
        ok="Publish anyway",
    )
    return answer[0] if answer else None


def rollback_confirmed(parent: QWidget, label: str, graph_name: str) -> bool:
    sure = QMessageBox.question(
        parent,
        "Roll back",
        f"Make {label} the published version of '{graph_name}' again? New runs use "
        "it from now on; runs already going finish on the version that started them.",
    )
    return sure == QMessageBox.StandardButton.Yes


def tell_rolled_back(parent: QWidget, graph_name: str, report: versions.RollbackReport) -> str:
    """Say which version runs now and which runs are still going; returns the first part."""
    was = f" (it was {report.previous})" if report.previous else ""
    text = f"'{graph_name}' now runs {report.version.label}{was}."
    QMessageBox.information(parent, "Rolled back", f"{text} {_runs_going(report.active_runs)}")
    return text


def cancel_on_disable(parent: QWidget, graph_name: str) -> bool | None:
    """Whether to cancel the runs still going when disabling; None: not disabled."""
    answer = ask(
        parent,
        "Disable graph",
        f"While '{graph_name}' is disabled no new runs start. Runs already going "
        "finish as drawn, unless you tick the box to cancel them now.",
        tick="Cancel the runs that are still going",
        ok="Disable",
    )
    return None if answer is None else answer[1]


def _runs_going(active: dict[str, int]) -> str:
    if not active:
        return "No runs are going right now."
    counts = ", ".join(f"{count} on {label}" for label, count in active.items())
    return f"Runs still going: {counts}. Each finishes on the version that started it."
