"""How long the designer takes to open and save a big graph (300 steps).

Run from the repository: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/designer.py``.
Open = reading the draft from the database and building the canvas; save = writing
the draft back (the Ctrl+S path). Prints the median of several rounds.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from designer.app import application
from designer.main_window import MainWindow
from designer.session import Session
from engine import demo, graphs
from engine.graph.model import Graph, PortRef, new_edge, new_node
from engine.storage import schema
from engine.storage.database import Database

STEPS = 300
ROUNDS = 5


def big_graph() -> Graph:
    """A trigger, then 299 steps in ten lanes of waits, conditions and emails."""
    graph = Graph(id=new_node("trigger.manual").id, name="Three hundred steps", source="orders")
    trigger = new_node("trigger.status_entered", {"codes": ["SNA"]})
    graph = graph.with_node(trigger, (0.0, 0.0))
    kinds = [
        ("wait.duration", {"duration": {"amount": 5, "unit": "minutes"}}),
        ("action.send_email", {"to": "{{ email }}", "subject": "Order {{ record_key }}",
                               "body_text": "Dear {{ customer_name }}"}),
        ("action.add_note", {"note": "Step for {{ record_key }}"}),
    ]  # fmt: skip
    previous = {lane: trigger for lane in range(10)}
    for index in range(STEPS - 1):
        lane = index % 10
        type_id, params = kinds[index % len(kinds)]
        node = new_node(type_id, params)
        graph = graph.with_node(node, (300.0 * (index // 10 + 1), 160.0 * lane))
        graph = graph.with_edge(new_edge(PortRef(previous[lane].id, "out"), PortRef(node.id, "in")))
        previous[lane] = node
    return graph


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    schema.upgrade(db)
    demo.install(db, actor="bench")
    graph = big_graph()
    graphs.create_graph(db, graph.to_document(), actor="bench")
    app = application()
    window = MainWindow(Session(db, "bench"))
    window.resize(1500, 900)
    window.show()
    opens, saves = [], []
    for _ in range(ROUNDS):
        opens.append(timed(lambda: (window.open_named(graph.name), app.processEvents())))
        window.document.move_nodes({graph.nodes[1].id: (10.0, 10.0)})
        saves.append(timed(window.save))
    window.document.mark_saved()
    window.close()
    print(f"{STEPS}-step graph, {len(graph.edges)} connections, median of {ROUNDS}:")
    print(f"  open (database → canvas): {statistics.median(opens):7.0f} ms   (goal < 1000 ms)")
    print(f"  save draft (Ctrl+S):      {statistics.median(saves):7.0f} ms   (goal <  200 ms)")


if __name__ == "__main__":
    main()
