"""Loops between graphs: a graph's write starts another graph, which starts the first.

The runtime stops such loops after the fact (causation depth, rate limit); this check
finds them before publishing, so a publisher reads "Graph A sets DEL → Graph B starts
on DEL and sets ASN → Graph A starts on ASN" and fixes the graphs instead. Each
trigger of each graph is one point of the search, because what a graph writes
depends on which trigger started it: only actions reachable from that trigger count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, select

from engine.graph.model import Graph, Node
from engine.nodes import catalogue
from engine.nodes.common import text, texts
from engine.storage import tables

# A publisher acts on the first few loops; listing every combination of a densely
# linked set of graphs could take longer than anyone waits for a publish.
MAX_CYCLES = 25

Change = tuple[str, str]  # ("status", "DEL") or ("label", "VIP")


class Step(NamedTuple):
    """One graph in a loop: what starts it, and what it then sets."""

    graph_name: str
    starts_on: str  # "DEL" or "label 'VIP'"
    sets: str


@dataclass(frozen=True)
class Cycle:
    steps: tuple[Step, ...]

    def describe(self) -> str:
        """'A sets DEL → B starts on DEL and sets ASN → A starts on ASN'."""
        first, *rest = self.steps
        parts = [f"{first.graph_name} sets {first.sets}"]
        parts += [f"{s.graph_name} starts on {s.starts_on} and sets {s.sets}" for s in rest]
        parts.append(f"{first.graph_name} starts on {first.starts_on}")
        return " → ".join(parts)


@dataclass(frozen=True)
class _Start:
    """One trigger of one graph, with what it listens to and what its run writes."""

    graph_id: str
    graph_name: str
    source: str | None
    listens: frozenset[Change]
    from_code: str  # "" when any previous status will do
    writes: tuple[Change, ...]
    statuses_at_write: frozenset[str] | None  # None: the status could be anything


def cycles_among(
    graphs: Sequence[tuple[str, str, Graph]], *, through: str | None = None
) -> list[Cycle]:
    """Every loop among ``(graph id, name, graph)``; with ``through``, only loops via that graph.

    The order is deterministic (graph names, then node order) and each loop is listed
    once, starting from its first graph in that order (``through``'s when given).
    """
    starts = [
        s
        for graph_id, name, graph in sorted(graphs, key=lambda g: (g[1], g[0]))
        for s in _starts(graph_id, name, graph)
    ]
    followers = {i: _followers(start, starts) for i, start in enumerate(starts)}
    origins = [i for i, s in enumerate(starts) if through is None or s.graph_id == through]
    found: dict[Cycle, None] = {}
    banned: set[int] = set()
    for origin in origins:
        for path, changes in _loops_from(origin, followers, banned):
            found.setdefault(_cycle(starts, path, changes))
            if len(found) >= MAX_CYCLES:
                return list(found)
        banned.add(origin)
    return list(found)


def find_cycles(conn: Connection, candidate_graph_id: str, candidate: Graph) -> list[Cycle]:
    """Loops that publishing ``candidate`` (replacing that graph's current version) would make."""
    others = [g for g in published_graphs(conn) if g[0] != candidate_graph_id]
    return cycles_among(
        [*others, (candidate_graph_id, candidate.name, candidate)], through=candidate_graph_id
    )


def published_graphs(conn: Connection) -> list[tuple[str, str, Graph]]:
    """(id, name, current version) of every enabled graph that has one."""
    rows = conn.execute(
        select(tables.graphs.c.id, tables.graphs.c.name, tables.graph_versions.c.document)
        .join(
            tables.graph_versions, tables.graph_versions.c.id == tables.graphs.c.current_version_id
        )
        .where(tables.graphs.c.enabled.is_(True))
        .order_by(tables.graphs.c.name)
    ).all()
    return [(row.id, row.name, Graph.from_stored(row.document)) for row in rows]


# -- what each trigger listens to and what its run writes --------------------------------


def _starts(graph_id: str, name: str, graph: Graph) -> Iterator[_Start]:
    for trigger in graph.triggers():
        listens, from_code = _listens(trigger)
        if not listens:
            continue
        writes = tuple(dict.fromkeys(w for n in _reachable(graph, trigger) if (w := _write(n))))
        yield _Start(
            graph_id,
            name,
            graph.source,
            listens,
            from_code,
            writes,
            _statuses_at_write(listens, writes),
        )


def _params(node: Node) -> dict[str, object]:
    return catalogue.require(node.type).with_defaults(node.params)


def _listens(trigger: Node) -> tuple[frozenset[Change], str]:
    """The status codes or label a trigger starts on, and its "only when it was" code."""
    kind, params = catalogue.require(trigger.type).trigger_kind, _params(trigger)
    if kind == "status":
        codes = frozenset(("status", code) for code in texts(params.get("codes")))
        return codes, text(params.get("from_code"))
    label = text(params.get("label"))
    return (frozenset({("label", label)}) if kind == "label" and label else frozenset()), ""


def _write(node: Node) -> Change | None:
    """The status or label an action puts on the record; None for anything else."""
    node_type = catalogue.get(node.type)
    writes = node_type.writes if node_type else None
    if writes not in ("status", "label"):
        return None
    params = _params(node)
    if writes == "label" and params.get("remove") is True:
        return None
    value = text(params.get("code" if writes == "status" else "label"))
    return (writes, value) if value else None


def _reachable(graph: Graph, trigger: Node) -> list[Node]:
    """The steps a run started by ``trigger`` can get to, in the graph's node order."""
    seen, todo = {trigger.id}, [trigger.id]
    while todo:
        for edge in graph.outgoing(todo.pop()):
            if edge.target.node not in seen:
                seen.add(edge.target.node)
                todo.append(edge.target.node)
    return [n for n in graph.nodes if n.id in seen and n.id != trigger.id]


def _statuses_at_write(
    listens: frozenset[Change], writes: tuple[Change, ...]
) -> frozenset[str] | None:
    """The statuses a record may have when the run writes: the starting ones or its own."""
    started = {code for kind, code in listens if kind == "status"}
    if not started:
        return None
    return frozenset(started | {code for kind, code in writes if kind == "status"})


# -- the search --------------------------------------------------------------------------


def _followers(start: _Start, starts: list[_Start]) -> list[tuple[Change, int]]:
    """(what ``start`` writes, index of a trigger that write starts), in a fixed order."""
    return [
        (change, i)
        for change in start.writes
        for i, other in enumerate(starts)
        if other.source is not None
        and other.source == start.source
        and change in other.listens
        and _from_code_allows(start, change, other)
    ]


def _from_code_allows(writer: _Start, change: Change, listener: _Start) -> bool:
    if change[0] != "status" or not listener.from_code:
        return True
    return writer.statuses_at_write is None or listener.from_code in writer.statuses_at_write


def _loops_from(
    origin: int, followers: dict[int, list[tuple[Change, int]]], banned: set[int]
) -> Iterator[tuple[list[int], list[Change]]]:
    """Every simple path from ``origin`` back to it that avoids ``banned`` points."""
    allowed = _leading_to(origin, followers, banned)

    def walk(path: list[int], changes: list[Change]) -> Iterator[tuple[list[int], list[Change]]]:
        for change, nxt in followers[path[-1]]:
            if nxt == origin:
                yield path, [*changes, change]
            elif nxt in allowed and nxt not in path:
                yield from walk([*path, nxt], [*changes, change])

    return walk([origin], [])


def _leading_to(
    origin: int, followers: dict[int, list[tuple[Change, int]]], banned: set[int]
) -> set[int]:
    """The points that can lead back to ``origin``: the only ones worth walking through."""
    leaders: dict[int, set[int]] = {}
    for here, nexts in followers.items():
        for _, nxt in nexts:
            leaders.setdefault(nxt, set()).add(here)
    found, todo = {origin}, [origin]
    while todo:
        for before in leaders.get(todo.pop(), ()):
            if before not in found and before not in banned:
                found.add(before)
                todo.append(before)
    return found


def _cycle(starts: list[_Start], path: list[int], changes: list[Change]) -> Cycle:
    """Step i starts on what step i-1 set (the first on what the last set)."""
    return Cycle(
        tuple(
            Step(starts[i].graph_name, _words(changes[k - 1]), _words(changes[k]))
            for k, i in enumerate(path)
        )
    )


def _words(change: Change) -> str:
    kind, value = change
    return f"label '{value}'" if kind == "label" else value
