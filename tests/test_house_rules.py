"""Rules of the house that are checked, not hoped for."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_engine_never_imports_qt_or_the_designer() -> None:
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_engine_imports_without_qt_loaded() -> None:
    code = (
        "import sys, importlib, pkgutil, engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('PySide6', 'NodeGraphQt', 'Qt')]\n"
        "assert not bad, bad\n"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr


def test_code_is_ruff_clean() -> None:
    check = _run(str(BIN / "ruff"), "check", ".")
    assert check.returncode == 0, check.stdout
    fmt = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout


def test_engine_is_typed() -> None:
    result = _run(str(BIN / "mypy"), "engine")
    assert result.returncode == 0, result.stdout


# --- Every test checks something ------------------------------------------------------

_PYTEST_CHECKS = {"raises", "warns", "fail", "deprecated_call"}
_QTBOT_CHECKS = {"waitUntil", "waitSignal", "waitSignals", "assertNotEmitted", "waitCallback"}
_FUNCTION = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)

# Helpers in tests/ whose asserts check the test's own tooling, not the product: calling one
# does not make a test check anything ("module.function": why).
NOT_A_CHECK = {
    "tests.designer.screens.save_screenshot": "asserts only that the PNG file was written",
}

# Tests the rule misjudges ("tests/path.py::test_name": why the test is fine). Keep it short.
ALLOWED: dict[str, str] = {}

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and all it contains, except the inside of nested functions, classes and
    lambdas (nothing at all if ``node`` is one): their code runs only if something calls it."""
    stack = [] if isinstance(node, _SCOPE) else [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in ast.iter_child_nodes(current) if not isinstance(c, _SCOPE))


def _is_direct_check(node: ast.AST) -> bool:
    """``assert``; ``raise AssertionError``; ``pytest.raises/warns/fail/deprecated_call`` (in
    a ``with`` or called); a qtbot wait that fails when its condition is never met."""
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(exc, ast.Name) and exc.id == "AssertionError"
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
    ):
        return False
    owner, name = node.func.value.id, node.func.attr
    if owner == "pytest":
        return name in _PYTEST_CHECKS
    raising_off = any(
        k.arg == "raising" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in node.keywords
    )
    return owner == "qtbot" and name in _QTBOT_CHECKS and not raising_off


def _has_direct_check(function: Function) -> bool:
    return any(_is_direct_check(n) for s in function.body for n in _own_nodes(s))


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _test_functions(tree: ast.Module) -> Iterator[tuple[str | None, Function]]:
    """(class name or None, function) for what pytest collects: ``test*`` functions and the
    ``test*`` methods of ``Test*`` classes."""
    for node in tree.body:
        if isinstance(node, _FUNCTION) and node.name.startswith("test"):
            yield None, node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for method in node.body:
                if isinstance(method, _FUNCTION) and method.name.startswith("test"):
                    yield node.name, method


def _bindings(module: str, tree: ast.Module) -> dict[str, str]:
    """Module-level names of a test module -> the dotted name they stand for: its own
    functions and classes, and what ``import``/``from ... import`` (relative too) brought in."""
    package = module.split(".")[:-1]
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (*_FUNCTION, ast.ClassDef)):
            names[node.name] = f"{module}.{node.name}"
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
    return names


def _checking_helpers(trees: dict[str, ast.Module]) -> set[str]:
    """Dotted names of the functions and methods in tests/ whose own body holds a direct check."""
    found: set[str] = set()
    for module, tree in trees.items():
        for node in tree.body:
            if isinstance(node, _FUNCTION) and _has_direct_check(node):
                found.add(f"{module}.{node.name}")
            elif isinstance(node, ast.ClassDef):
                found.update(
                    f"{module}.{node.name}.{m.name}"
                    for m in node.body
                    if isinstance(m, _FUNCTION) and _has_direct_check(m)
                )
    return found - set(NOT_A_CHECK)


def _always_checks(body: list[ast.stmt], is_check: Callable[[ast.AST], bool]) -> bool:
    """Whether running ``body`` always reaches a check, counting a check under an ``if`` (or
    ``match``) only when every branch has one. Loops, ``try`` and ``with`` are taken as running
    their body: a check in a loop counts even though the loop may run zero times."""
    for statement in body:
        if isinstance(statement, ast.If):
            if any(is_check(n) for n in _own_nodes(statement.test)):
                return True
            if _always_checks(statement.body, is_check) and _always_checks(
                statement.orelse, is_check
            ):
                return True
        elif isinstance(statement, ast.Match):
            if any(is_check(n) for n in _own_nodes(statement.subject)):
                return True
            last = statement.cases[-1]
            catch_all = isinstance(last.pattern, ast.MatchAs) and last.pattern.pattern is None
            if (
                catch_all
                and last.guard is None
                and all(_always_checks(case.body, is_check) for case in statement.cases)
            ):
                return True
        elif isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
            header = statement.test if isinstance(statement, ast.While) else statement.iter
            if any(is_check(n) for n in _own_nodes(header)) or any(
                _always_checks(b, is_check) for b in (statement.body, statement.orelse)
            ):
                return True
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            items = (n for item in statement.items for n in _own_nodes(item))
            if any(is_check(n) for n in items) or _always_checks(statement.body, is_check):
                return True
        elif isinstance(statement, (ast.Try, ast.TryStar)):
            blocks = [statement.body, statement.orelse, statement.finalbody]
            blocks += [handler.body for handler in statement.handlers]
            if any(_always_checks(b, is_check) for b in blocks):
                return True
        elif any(is_check(n) for n in _own_nodes(statement)):
            return True
    return False


def _check_finder(
    owner: str | None, test: Function, bound: dict[str, str], checking: set[str]
) -> Callable[[ast.AST], bool]:
    """Whether a node in ``test`` is a check: a direct one, or a call of a checking helper
    (nested in the test, bound at module level, or a method of the test's class ``owner``)."""
    nested = {
        n.name: _has_direct_check(n)
        for n in ast.walk(test)
        if isinstance(n, _FUNCTION) and n is not test
    }

    def is_check(node: ast.AST) -> bool:
        if _is_direct_check(node):
            return True
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in nested:
                return nested[func.id]
            return bound.get(func.id) in checking
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id == "self":
                return owner is not None and f"{owner}.{func.attr}" in checking
            target = bound.get(func.value.id)
            return target is not None and f"{target}.{func.attr}" in checking
        return False

    return is_check


def _tests_without_a_check(root: Path = ROOT) -> list[str]:
    """``path::name  (why)`` of every test under ``root/tests`` that the rule below flags."""
    paths = sorted((root / "tests").rglob("*.py"))
    trees = {_module_name(root, p): ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in paths}
    checking = _checking_helpers(trees)
    found = []
    for path in paths:
        if not (path.name.startswith("test_") or path.name.endswith("_test.py")):
            continue
        module = _module_name(root, path)
        bound = _bindings(module, trees[module])
        for owner, test in _test_functions(trees[module]):
            is_check = _check_finder(f"{module}.{owner}" if owner else None, test, bound, checking)
            name = f"{path.relative_to(root).as_posix()}::{test.name}"
            if name in ALLOWED or _always_checks(test.body, is_check):
                continue
            some = any(is_check(n) for s in test.body for n in _own_nodes(s))
            found.append(f"{name}  ({'checks only under an if' if some else 'checks nothing'})")
    return found


def test_every_test_checks_something() -> None:
    """No test passes without checking anything, nor checks only under an ``if`` (when the
    condition is false, it checks nothing).

    Looked at: ``test*`` functions, and ``test*`` methods of ``Test*`` classes, in the
    ``test_*.py`` / ``*_test.py`` files under tests/. A test checks something if its body
    (not the inside of nested functions or lambdas) holds:
    - a direct check: ``assert``, ``raise AssertionError``, ``pytest.raises``/``warns``/
      ``fail``/``deprecated_call`` (in a ``with`` or called), or ``qtbot.waitUntil``/
      ``waitSignal``/``waitSignals``/``assertNotEmitted``/``waitCallback`` without
      ``raising=False`` (the fixture must be called ``qtbot``); or
    - a call, by name, of a helper whose own body holds a direct check: a function nested in
      the test, a function defined in or imported into the test's module from tests/
      (``helper()``, ``module.helper()``), or a method of the test's class (``self.helper()``).
    Helpers are followed one level only (a helper that just calls another checking helper does
    not count; whether a helper checks under an ``if`` is not looked at); calls through other
    objects and fixtures that check are not seen. A check counts only if every branch of each
    ``if``/``match`` around it has one; loops, ``try`` and ``with`` count as running their body.
    ``NOT_A_CHECK`` names helpers that do not count; ``ALLOWED`` lets a misjudged test through.
    """
    found = _tests_without_a_check()
    for line in found:
        print(line)
    assert not found, "tests that check nothing:\n" + "\n".join(found)


PROBE = {
    "helpers.py": """
        def expect_ok(x):
            assert x

        def relay(x):
            expect_ok(x)
    """,
    "designer/screens.py": """
        def save_screenshot(widget, name):
            assert widget
    """,
    "test_probe.py": """
        import pytest

        from tests import helpers
        from tests.designer.screens import save_screenshot
        from tests.helpers import expect_ok, relay

        def test_nothing():
            x = 1

        def test_only_under_if(flag):
            if flag:
                assert flag

        def test_both_branches(flag):
            if flag:
                assert flag
            else:
                pytest.fail("no flag")

        def test_in_a_loop(items):
            for item in items:
                assert item

        def test_raises():
            with pytest.raises(ValueError):
                int("x")

        def test_waits(qtbot, widget):
            qtbot.waitUntil(widget.isVisible)

        def test_a_wait_that_never_fails(qtbot, widget):
            with qtbot.waitSignal(widget.shown, raising=False):
                widget.show()

        def test_helper():
            expect_ok(1)

        def test_module_helper():
            helpers.expect_ok(1)

        def test_two_levels_down():
            relay(1)

        def test_screenshot_only(widget):
            save_screenshot(widget, "widget")

        def test_nested_helper():
            def check(x):
                assert x
            check(1)

        def test_nested_helper_never_called():
            def check(x):
                assert x

        class TestThings:
            def expect(self, x):
                assert x

            async def test_method(self):
                self.expect(1)

            def test_method_without_a_check(self):
                pass
    """,
}


def test_the_rule_flags_what_checks_nothing(tmp_path: Path) -> None:
    for name, source in PROBE.items():
        (tmp_path / "tests" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "tests" / name).write_text(textwrap.dedent(source), encoding="utf-8")
    assert _tests_without_a_check(tmp_path) == [
        f"tests/test_probe.py::{name}  ({why})"
        for name, why in [
            ("test_nothing", "checks nothing"),
            ("test_only_under_if", "checks only under an if"),
            ("test_a_wait_that_never_fails", "checks nothing"),
            ("test_two_levels_down", "checks nothing"),
            ("test_screenshot_only", "checks nothing"),
            ("test_nested_helper_never_called", "checks nothing"),
            ("test_method_without_a_check", "checks nothing"),
        ]
    ]
