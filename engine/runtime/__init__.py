"""The engine runtime: ingest status events, dispatch work items, run node executors."""
