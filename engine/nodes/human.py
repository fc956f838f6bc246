"""Human node types: the run parks until a person decides.

An approval becomes a task in the inbox of a role (or a person); the run goes on
through "Approved", "Rejected" or "Timed out" when it is decided or runs out of time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.nodes.common import IN, MISSING, duration_problem, names_check, texts
from engine.nodes.spec import (
    Category,
    ChoicesSource,
    NodeType,
    Param,
    ParamKind,
    Port,
    SummaryContext,
)


def _approval(p: Mapping[str, Any], _context: SummaryContext) -> str:
    return f"Approval: {', '.join(texts(p.get('approvals'))) or MISSING}"


NODE_TYPES: tuple[NodeType, ...] = (
    NodeType(
        type_id="human.approval",
        category=Category.HUMAN,
        label="Approval",
        description="Asks a person to approve or reject before the run goes on.",
        params=(
            Param(
                "approvals",
                "What to approve",
                ParamKind.STRING_LIST,
                help="One line per approval, for example Price approval, Legal review; "
                "all of them must be approved.",
                default=[],
                required=True,
                check=names_check("approval", "Name at least one approval."),
            ),
            Param(
                "assignee_role",
                "Approver role",
                ParamKind.CHOICE,
                help="Anyone with this role may decide.",
                default="publisher",
                required=True,
                choices_source=ChoicesSource.ROLES,
            ),
            Param(
                "assignee_user",
                "Approver",
                ParamKind.CHOICE,
                help="Leave empty to let anyone with the role decide.",
                choices_source=ChoicesSource.USERS,
            ),
            Param(
                "documents",
                "Documents needed",
                ParamKind.STRING_LIST,
                help="Documents the approver must see before deciding, one per line.",
                default=[],
                check=names_check("document", "Name at least one document."),
            ),
            Param(
                "timeout",
                "Time to decide",
                ParamKind.DURATION,
                help="When nobody decides in time, the run goes on through 'Timed out'.",
                default={"amount": 2, "unit": "days"},
                required=True,
                check=duration_problem,
            ),
        ),
        inputs=(IN,),
        outputs=(
            Port("approved", "Approved"),
            Port("rejected", "Rejected"),
            Port("timeout", "Timed out"),
        ),
        summary=_approval,
        icon="approval.svg",
        keywords=("approve", "reject", "review", "sign off", "decision", "person"),
    ),
)
