"""Sub-commands of ``statusflow``; each module has ``register(subparsers)``."""
