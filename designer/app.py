"""Starting the designer: the Qt application, the signed-in session, the window.

On the embedded default the engine runs in the same process on a background thread,
so a person can change a record's status and watch the automation happen.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from designer.collector import GuiThreadCollector
from designer.main_window import MainWindow
from designer.session import Session
from designer.sign_in import sign_in
from engine.outbox import LoopbackOutbox, ensure_demo_profile
from engine.secrets import SecretStore
from engine.services.database import Database
from engine.services.engines import Engine, EngineRunner


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("StatusFlow")
    app.setOrganizationName("StatusFlow")
    if app.findChild(GuiThreadCollector) is None:
        GuiThreadCollector(app)
    return app  # type: ignore[return-value]


def run(db: Database, actor: str, *, secrets: SecretStore, outbox_path: Path | None) -> int:
    """Open the designer; returns the application's exit code.

    With ``outbox_path`` (the embedded default) the engine runs in this process and the
    demo's emails go over real SMTP to a loopback server whose messages the Outbox panel
    shows; otherwise (a shared database) people sign in and engines run elsewhere.
    """
    app = application()
    if outbox_path is None:
        signed_in = sign_in(db, None, secrets)
        if signed_in is None:
            return 0
        return _show(app, MainWindow(Session(db, signed_in, secrets)))
    outbox = LoopbackOutbox(outbox_path)
    outbox.start()
    ensure_demo_profile(db, outbox, actor)
    runner = EngineRunner(Engine(db, secrets=secrets))
    runner.start_background()
    window = MainWindow(Session(db, actor, secrets), outbox=outbox, runner=runner)
    try:
        return _show(app, window)
    finally:
        if window.runner is not None:  # the one running now (the person may have restarted it)
            window.runner.stop()
        outbox.stop()


def _show(app: QApplication, window: MainWindow) -> int:
    window.reopen_last()
    window.show()
    return app.exec()
