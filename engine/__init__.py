"""StatusFlow's headless core: graphs, node types, storage, record sources.

Nothing in this package imports Qt or the designer; the designer and the CLI call
the services defined here.
"""

__version__ = "0.1.0"
