"""The designer opens on a real X display, not only offscreen.

Offscreen rendering hides a missing piece of the desktop stack (Qt's xcb plugin and
the X libraries it loads): the program would then die at start on a person's screen
with "could not load the Qt platform plugin". So the embedded default is started under
Xvfb, exactly as a person types it, and its main window must show up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

STATUSFLOW = str(Path(sys.executable).parent / "statusflow")
WATCH = """
"$1" > "$2" 2>&1 &
program=$!
for _ in $(seq 1 120); do
  if xwininfo -root -tree | grep -q '"StatusFlow'; then
    xwininfo -root -tree | grep '"StatusFlow' | head -1
    kill $program; wait $program; exit 0
  fi
  kill -0 $program 2>/dev/null || { echo "the designer ended on its own"; exit 3; }
  sleep 0.5
done
echo "no StatusFlow window after 60 s"; kill $program; exit 4
"""


def test_the_designer_opens_its_window_on_an_x_display(statusflow_home: Path) -> None:
    missing = [tool for tool in ("xvfb-run", "xwininfo") if shutil.which(tool) is None]
    assert not missing, (
        f"{', '.join(missing)} not installed: this test needs a virtual X display "
        "(Debian: apt-get install xvfb xauth x11-utils; .ci/run installs them)."
    )
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    log = statusflow_home.parent / "designer.log"
    display = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"]
    result = subprocess.run(
        [*display, "bash", "-c", WATCH, "watch", STATUSFLOW, str(log)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**env, "STATUSFLOW_HOME": str(statusflow_home)},
    )
    printed = log.read_text() if log.exists() else ""
    assert result.returncode == 0, f"{result.stdout}{result.stderr}\n{printed}"
    assert '"StatusFlow' in result.stdout  # the main window's title
    assert "First start: created the demo shop" in printed
    assert "Traceback" not in printed and "platform plugin" not in printed
