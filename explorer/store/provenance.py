"""Where a result came from: the package and library versions and the git commit, for the
files the app and the CLI hand out (so a downloaded number names the code that made it).

    provenance()   {"explorer": "0.1.0", "commit": "<sha>[+dirty]" or "unknown",
                    "python": ..., "torch": ..., "numpy": ..., "pandas": ...}
"""

from __future__ import annotations

import platform
import re
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("torch", "numpy", "pandas", "safetensors", "scikit-learn", "altair", "streamlit")


@lru_cache(maxsize=1)
def provenance() -> dict[str, str]:
    """Versions and commit, read once per process (missing pieces read "unknown")."""
    found = {"explorer": _own_version(), "commit": _commit(), "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _own_version() -> str:
    try:
        return metadata.version("alignment-explorer")
    except metadata.PackageNotFoundError:  # run from a checkout, not installed
        text = (ROOT / "pyproject.toml").read_text() if (ROOT / "pyproject.toml").exists() else ""
        found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
        return found.group(1) if found else "unknown"


def _commit() -> str:
    """HEAD of the checkout the package runs from, '+dirty' with uncommitted changes."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=5)
        if sha.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, timeout=5)
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
