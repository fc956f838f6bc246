"""Every node type the catalogue declares can run: one executor per non-trigger type."""

from __future__ import annotations

from engine.nodes import catalogue
from engine.nodes.spec import Category
from engine.runtime.executors import EXECUTORS


def test_each_declared_step_has_exactly_one_executor() -> None:
    steps = {t.type_id for t in catalogue.all_types() if t.category is not Category.TRIGGER}
    assert set(EXECUTORS) == steps
