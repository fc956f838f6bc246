"""Checks across all published graphs, run before publishing (loops between graphs)."""
