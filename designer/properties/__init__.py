"""The property forms of the designer, generated from the node catalogue."""

from __future__ import annotations

from designer.properties.panel import PropertiesPanel

__all__ = ["PropertiesPanel"]
