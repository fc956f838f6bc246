"""The desktop bundle and the engine service are described correctly.

Building the bundle takes a minute, so it is not done here (``bash packaging/build.sh``
does it). Instead the PyInstaller spec is executed the way PyInstaller executes it, with
its build steps recorded, and what it asks to bundle is compared with the files the
program opens at run time. The systemd unit is checked by systemd itself when present.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from engine.storage import schema

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
UNIT = PACKAGING / "statusflow-engine.service"
BUNDLE_PROGRAM = "/opt/statusflow/statusflow"  # where packaging/README.md installs it


class Recorded:
    """Stands in for one of PyInstaller's build steps and keeps its arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs
        self.binaries: list[tuple[str, str, str]] = []
        self.pure = self.scripts = self.datas = ()


@pytest.fixture(scope="module")
def analysis() -> Recorded:
    spec = PACKAGING / "statusflow.spec"
    steps = {name: Recorded for name in ("Analysis", "PYZ", "EXE", "COLLECT")}
    namespace: dict[str, Any] = {"SPECPATH": str(PACKAGING), **steps}
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    return namespace["a"]


def bundled(analysis: Recorded) -> set[str]:
    """Every data file's path inside the bundle, relative to sys._MEIPASS."""
    return {f"{dest}/{Path(src).name}" for src, dest in analysis.kwargs["datas"]}


def source_files(folder: Path) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_alembic_finds_every_migration_script_in_the_bundle(analysis: Recorded) -> None:
    # Frozen, schema.py's __file__ is sys._MEIPASS/engine/storage/schema.pyc, so
    # MIGRATIONS is the folder at the same path relative to the bundle's root.
    expected = source_files(schema.MIGRATIONS)
    assert {"env.py", "script.py.mako"} <= {Path(path).name for path in expected}
    assert expected <= bundled(analysis)


def test_what_the_migration_scripts_import_is_analysed(analysis: Recorded) -> None:
    scripts = [schema.MIGRATIONS / "env.py", *(schema.MIGRATIONS / "versions").glob("*.py")]
    modules = {".".join(path.relative_to(ROOT).with_suffix("").parts) for path in scripts}
    assert modules <= set(analysis.kwargs["hiddenimports"])


def test_resources_and_nodegraphqt_icons_are_bundled(analysis: Recorded) -> None:
    files = bundled(analysis)
    assert source_files(ROOT / "resources") <= files
    assert "resources/demo/graphs/delivered_email.json" in files
    assert "NodeGraphQt/widgets/icons/node_base.png" in files


def test_the_bundle_starts_the_command_line_and_leaves_unused_qt_out(
    analysis: Recorded,
) -> None:
    assert analysis.args[0] == [str(ROOT / "app" / "cli.py")]
    excluded = set(analysis.kwargs["excludes"])
    assert {"PySide6.QtWebEngineCore", "PySide6.QtQml", "PyQt5"} <= excluded
    assert not excluded & set(analysis.kwargs["hiddenimports"])


def test_no_qt_module_our_code_imports_is_left_out(analysis: Recorded) -> None:
    imported = {
        match
        for folder in ("app", "designer", "engine")
        for path in (ROOT / folder).rglob("*.py")
        for match in re.findall(r"\bPySide6\.Qt\w+", path.read_text(encoding="utf-8"))
    }
    assert "PySide6.QtWidgets" in imported
    assert imported.isdisjoint(analysis.kwargs["excludes"])


def test_build_script_is_executable_and_stops_at_the_first_error() -> None:
    script = PACKAGING / "build.sh"
    assert os.access(script, os.X_OK)
    lines = script.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines


def unit_config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(UNIT, encoding="utf-8")
    return parser


def test_service_runs_the_engine_as_its_own_user_and_stops_gracefully() -> None:
    service = unit_config()["Service"]
    assert service["ExecStart"] == f"{BUNDLE_PROGRAM} engine"
    assert service["User"] == "statusflow"
    assert service["EnvironmentFile"] == "/etc/statusflow/engine.env"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= 30
    assert unit_config()["Install"]["WantedBy"] == "multi-user.target"


def test_environment_example_names_what_the_service_reads() -> None:
    lines = (PACKAGING / "statusflow.env.example").read_text(encoding="utf-8").splitlines()
    keys = {line.split("=", 1)[0] for line in lines if "=" in line and not line.startswith("#")}
    assert {"STATUSFLOW_DATABASE_URL", "PYTHON_KEYRING_BACKEND"} <= keys


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_accepts_the_unit() -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, check=False
    )
    # The bundle is not installed on a test machine: that one complaint is expected.
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and f"Command {BUNDLE_PROGRAM} is not executable" not in line
    ]
    assert problems == []
