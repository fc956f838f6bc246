"""The engine's front door: every use case the designer and the command line perform.

Each function takes the database and the acting person, checks the permission and
the rule inside its own transaction, writes the audit entry, and returns a plain
result that also says what this person may do next (with the reason when not). The
designer draws its buttons from those answers and the CLI prints the same sentences;
neither restates a rule. ``designer/`` and ``app/`` import the engine through this
package (plus the pure graph model); ``tests/test_architecture.py`` holds that door.
"""
