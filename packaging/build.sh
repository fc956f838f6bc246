#!/usr/bin/env bash
# Build the desktop bundle dist/statusflow/ (one folder, runs without Python installed).
#
# A separate build virtualenv (build/venv) gets StatusFlow's dependencies exactly as
# pyproject.toml pins them, plus PyInstaller, without touching the development one.
# The spec then bundles this source tree (packaging/statusflow.spec).
#   bash packaging/build.sh            build (reuses build/venv when it exists)
#   PYTHON=python3.11 bash packaging/build.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/build/venv"
python="${PYTHON:-python3}"

cd "$root"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "Creating the build virtualenv in $venv"
    "$python" -m venv "$venv"
fi
echo "Installing StatusFlow, PyInstaller and the server keyring into the build virtualenv"
"$venv/bin/python" -m pip install --quiet "$root" "pyinstaller>=6.10,<7" "keyrings.alt>=5,<6"

echo "Building dist/statusflow/"
"$venv/bin/python" -m PyInstaller --noconfirm --clean \
    --distpath "$root/dist" --workpath "$root/build/pyinstaller" \
    "$root/packaging/statusflow.spec"

echo "Bundle: $root/dist/statusflow/ ($(du -sh "$root/dist/statusflow" | cut -f1))"
echo "Try it: dist/statusflow/statusflow --help"
