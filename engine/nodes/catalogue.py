"""The registry of node types: every declaration, looked up by type id.

Built once at import from each module's ``NODE_TYPES``, in palette order. Graph
validation, the designer's palette and the runtime all look node types up here, so
a type id means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.nodes import actions, conditions, human, triggers, waits
from engine.nodes.spec import Category, NodeType


def build_index(node_types: Iterable[NodeType]) -> dict[str, NodeType]:
    """Node types by type id, in the given order; a repeated type id is a programming error."""
    index: dict[str, NodeType] = {}
    for node_type in node_types:
        if node_type.type_id in index:
            raise ValueError(f"Node type {node_type.type_id!r} is declared twice.")
        index[node_type.type_id] = node_type
    return index


_INDEX = build_index(
    (
        *triggers.NODE_TYPES,
        *conditions.NODE_TYPES,
        *waits.NODE_TYPES,
        *actions.NODE_TYPES,
        *human.NODE_TYPES,
    )
)
_ALL = tuple(_INDEX.values())


def get(type_id: str) -> NodeType | None:
    return _INDEX.get(type_id)


def require(type_id: str) -> NodeType:
    """The node type, or a KeyError saying the graph uses a type this program lacks."""
    node_type = _INDEX.get(type_id)
    if node_type is None:
        raise KeyError(
            f"This program has no step of type '{type_id}'; the graph may come from a "
            "newer StatusFlow, so update StatusFlow or remove that step."
        )
    return node_type


def all_types() -> tuple[NodeType, ...]:
    """Every node type in palette order: triggers, conditions, waits, actions, human."""
    return _ALL


def by_category(category: Category | str) -> tuple[NodeType, ...]:
    return tuple(t for t in _ALL if t.category == category)


def search(text: str) -> tuple[NodeType, ...]:
    """Node types whose label, description or keywords hold every word typed."""
    words = text.lower().split()
    return tuple(t for t in _ALL if all(word in _haystack(t) for word in words))


def _haystack(node_type: NodeType) -> str:
    return " ".join((node_type.label, node_type.description, *node_type.keywords)).lower()
