"""New graphs made for people in a hurry: a copy of a template, or a one-line quick rule.

"When status is DEL on orders, send an email" is the most common automation there
is; drawing two boxes and a line for it is busywork. The form that asks for it lives
in the designer, but the rule for turning its answers into a graph lives here, so
every such graph has the same shape, ids and layout whoever builds it. Templates are
copied with fresh ids so a copy never collides with its original in the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine.errors import StatusFlowError
from engine.graph.model import Edge, Graph, PortRef, new_edge, new_node
from engine.nodes import catalogue
from engine.nodes.common import IN, THEN
from engine.storage.types import new_id

TRIGGER_TYPE = "trigger.status_entered"
ACTION_POSITION = (290.0, 0.0)  # right of the trigger, as the demo graphs are laid out


@dataclass(frozen=True)
class QuickAction:
    """One thing a quick rule can do, and the few parameters its form asks for."""

    type_id: str
    verb: str  # how the form's sentence says it: "send an email"
    fields: tuple[str, ...]


QUICK_ACTIONS: tuple[QuickAction, ...] = (
    QuickAction("action.send_email", "send an email", ("to", "subject", "body_text")),
    QuickAction("action.send_sms", "send an SMS", ("to", "message")),
    QuickAction("action.set_status", "set the status", ("code",)),
    QuickAction("action.add_note", "add a note", ("note",)),
    QuickAction("action.create_task", "create a task", ("title", "assignee_role")),
)


def quick_action(type_id: str) -> QuickAction:
    """The quick action for a node type id; an error naming the ones there are."""
    for action in QUICK_ACTIONS:
        if action.type_id == type_id:
            return action
    known = ", ".join(action.verb for action in QUICK_ACTIONS)
    raise StatusFlowError(
        f"A quick rule cannot do '{type_id}'; it can {known}. Draw the graph on the canvas "
        "for anything else."
    )


def build_quick_rule(
    *,
    name: str,
    source: str | None,
    codes: Sequence[str],
    action_type: str,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """A new graph document: 'status becomes one of ``codes``' → the one action."""
    action_node_type = catalogue.require(quick_action(action_type).type_id)
    trigger = new_node(TRIGGER_TYPE, {"codes": list(codes)})
    action = new_node(action_type, params)
    graph = Graph(
        id=new_id(),
        name=name.strip(),
        description=(
            f"When the status becomes {', '.join(codes) or '…'}: {action_node_type.label.lower()}."
        ),
        source=source,
        nodes=(trigger, action),
        edges=(new_edge(PortRef(trigger.id, THEN.name), PortRef(action.id, IN.name)),),
        layout={trigger.id: (0.0, 0.0), action.id: ACTION_POSITION},
    )
    return graph.to_document()


def name_problem(name: str, taken: Iterable[str]) -> str | None:
    """Why a new graph cannot have this name (empty, or another graph has it)."""
    wanted = name.strip()
    if not wanted:
        return "Give the automation a name, for example 'Delivered → thank-you email'."
    if wanted in set(taken):
        return f"An automation named '{wanted}' already exists; choose another name."
    return None


def unique_name(wanted: str, taken: Iterable[str]) -> str:
    """``wanted``, or "wanted (copy)", "wanted (copy 2)"… whichever is still free."""
    used = set(taken)
    if wanted not in used:
        return wanted
    candidate, number = f"{wanted} (copy)", 2
    while candidate in used:
        candidate, number = f"{wanted} (copy {number})", number + 1
    return candidate


def copy_as_new(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A copy of a graph document with a new name and new graph, step and connection ids.

    The layout follows the steps to their new ids, so the copy looks like the original.
    """
    graph = Graph.from_document(dict(document))
    ids = {node.id: new_id() for node in graph.nodes}
    copy = replace(
        graph,
        id=new_id(),
        name=name,
        nodes=tuple(replace(node, id=ids[node.id]) for node in graph.nodes),
        edges=tuple(_renamed(edge, ids) for edge in graph.edges),
        layout={ids[node_id]: point for node_id, point in graph.layout.items() if node_id in ids},
    )
    return copy.to_document()


def _renamed(edge: Edge, ids: Mapping[str, str]) -> Edge:
    return Edge(
        new_id(),
        PortRef(ids.get(edge.source.node, edge.source.node), edge.source.port),
        PortRef(ids.get(edge.target.node, edge.target.node), edge.target.port),
    )
