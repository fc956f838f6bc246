"""Old graph documents are upgraded, one format version at a time, by pure functions.

Each ``from_version_N`` takes a version-N document and returns a new version-N+1
document without touching its argument, so every step can be tested on its own and
a file written years ago still opens. ``upgrade`` chains them up to
``CURRENT_VERSION``. A document that does not say its version is refused, not
guessed: reading it the wrong way could silently change what an automation does.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from engine.errors import GraphFormatError

CURRENT_VERSION = 2

# Edge ids made while upgrading are uuid5 names in this namespace, so upgrading the
# same document twice gives the same ids.
EDGE_NAMESPACE = uuid.UUID("6f1c2a4e-3b7d-5e8f-9a0b-1c2d3e4f5a6b")

Document = dict[str, Any]


def from_version_1(doc: Document) -> Document:
    """Version 1 (the prototype) to version 2.

    Version 1 kept each node's canvas position inside the node (``"position": [x, y]``),
    called parameters ``"settings"``, and wrote edges as text
    ``"<node-id>.<port> -> <node-id>.<port>"`` without ids. Version 2 moves positions
    to ``layout``, renames ``settings`` to ``params`` and gives edges objects and ids.
    A position that is not two numbers is dropped: it only affects where the designer
    draws the step.
    """
    new = copy.deepcopy(doc)
    new["format_version"] = 2
    positions: dict[str, dict[str, Any]] = {}
    if isinstance(new.get("nodes"), list):
        new["nodes"] = [_node_from_v1(node, positions) for node in new["nodes"]]
    if isinstance(new.get("edges"), list):
        new["edges"] = _edges_from_v1(new["edges"])
    if positions:
        new["layout"] = {"nodes": positions}
    return new


def _node_from_v1(node: Any, positions: dict[str, dict[str, Any]]) -> Any:
    if not isinstance(node, dict):
        return node
    if "settings" in node:
        node["params"] = node.pop("settings")
    position = node.pop("position", None)
    if isinstance(node.get("id"), str) and _is_point(position):
        positions[node["id"]] = {"x": position[0], "y": position[1]}
    return node


def _is_point(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def _edges_from_v1(edges: list[Any]) -> list[Any]:
    """Edge texts to edge objects; the same connection written twice is kept once."""
    result: list[Any] = []
    seen: set[str] = set()
    for edge in edges:
        if not isinstance(edge, str):
            result.append(edge)
            continue
        (from_node, from_port), (to_node, to_port) = _parse_edge_text(edge)
        text = f"{from_node}.{from_port} -> {to_node}.{to_port}"
        if text in seen:
            continue
        seen.add(text)
        result.append(
            {
                "id": str(uuid.uuid5(EDGE_NAMESPACE, text)),
                "from": {"node": from_node, "port": from_port},
                "to": {"node": to_node, "port": to_port},
            }
        )
    return result


def _parse_edge_text(text: str) -> tuple[tuple[str, str], tuple[str, str]]:
    ends = [end.strip() for end in text.split("->")]
    refs = [end.rsplit(".", 1) for end in ends]
    if len(refs) != 2 or any(len(ref) != 2 or not all(ref) for ref in refs):
        raise GraphFormatError(
            f"The connection '{text}' in this old graph file cannot be read; it should look "
            "like 'step-id.port -> step-id.port'. Fix that line in the file and open it again."
        )
    return (refs[0][0], refs[0][1]), (refs[1][0], refs[1][1])


UPGRADES: dict[int, Callable[[Document], Document]] = {1: from_version_1}


def document_version(doc: Document) -> int:
    """The document's format version, or GraphFormatError when it cannot be used."""
    version = doc.get("format_version")
    if version is None:
        raise GraphFormatError(
            "This file does not say which StatusFlow format it uses (format_version is "
            "missing), so it cannot be opened safely. Export the graph again from StatusFlow."
        )
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise GraphFormatError(
            f"This file gives '{version}' as its format version, which is not a StatusFlow "
            "format. Export the graph again from StatusFlow."
        )
    if version > CURRENT_VERSION:
        raise GraphFormatError(
            f"This graph was saved by a newer StatusFlow (format {version}); this one reads "
            f"formats up to {CURRENT_VERSION}. Update StatusFlow to open it."
        )
    return version


def upgrade(doc: Document) -> Document:
    """A new document in ``CURRENT_VERSION``; the argument is left as it was."""
    version = document_version(doc)
    upgraded = copy.deepcopy(doc)
    while version < CURRENT_VERSION:
        upgraded = UPGRADES[version](upgraded)
        version += 1
    return upgraded
