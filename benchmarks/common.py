"""Shared helpers for the benchmark scripts: timing and peak memory."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.core.rng import fix_threads  # noqa: E402

fix_threads()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(_fmt(r[c])) for r in rows)) for c in columns}
    lines = ["  ".join(c.rjust(widths[c]) for c in columns)]
    lines += ["  ".join(_fmt(r[c]).rjust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)
