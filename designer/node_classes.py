"""NodeGraphQt node classes generated from the engine's node catalogue.

One class per node type, made once at start: its ports follow the declaration
(a trigger has no input; a condition has Yes/No; an approval has Approved/Rejected/
Timed out), its colour follows the category. Nothing about a node type is written
here by hand.
"""

from __future__ import annotations

from NodeGraphQt import BaseNode

from engine.nodes import catalogue
from engine.nodes.spec import Category, NodeType

IDENTIFIER = "statusflow"

COLOURS: dict[Category, tuple[int, int, int]] = {
    Category.TRIGGER: (46, 125, 50),
    Category.CONDITION: (245, 124, 0),
    Category.WAIT: (94, 53, 177),
    Category.ACTION: (21, 101, 192),
    Category.HUMAN: (173, 20, 87),
}
PROBLEM_BORDER = (229, 57, 53)
PATH_COLOUR = (214, 137, 16)  # amber: the white titles stay readable


def class_name(type_id: str) -> str:
    return "SF_" + type_id.replace(".", "_")


def _make(node_type: NodeType) -> type[BaseNode]:
    colour = COLOURS[node_type.category]

    def __init__(self: BaseNode) -> None:
        BaseNode.__init__(self)
        self.set_color(*colour)
        for port in node_type.inputs:
            self.add_input(port.name, multi_input=True, display_name=False)
        for port in node_type.outputs:
            self.add_output(
                port.label if len(node_type.outputs) > 1 else port.name,
                display_name=len(node_type.outputs) > 1,
            )

    return type(
        class_name(node_type.type_id),
        (BaseNode,),
        {"__identifier__": IDENTIFIER, "NODE_NAME": node_type.label, "__init__": __init__},
    )


NODE_CLASSES: dict[str, type[BaseNode]] = {t.type_id: _make(t) for t in catalogue.all_types()}


def node_type_key(type_id: str) -> str:
    """The key NodeGraphQt's ``create_node`` expects for one of our types."""
    return f"{IDENTIFIER}.{class_name(type_id)}"


def port_name(node_type: NodeType, canvas_name: str) -> str:
    """Our port name for a canvas port (outputs are shown by label when several)."""
    for port in node_type.outputs:
        if canvas_name in (port.name, port.label):
            return port.name
    return canvas_name


def canvas_port(node_type: NodeType, name: str) -> str:
    """The canvas name of one of our output ports."""
    if len(node_type.outputs) > 1:
        for port in node_type.outputs:
            if port.name == name:
                return port.label
    return name
