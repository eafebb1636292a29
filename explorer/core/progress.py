"""Progress reporting: a callback (fraction in [0, 1], message), and its rescaling onto a
part of a caller's bar. Every long phase reports through one of these."""

from __future__ import annotations

from typing import Callable

Progress = Callable[[float, str], None]


def scaled_progress(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    """A progress callback mapping [0, 1] onto [lo, hi] of the caller's bar."""
    if progress is None:
        return None
    return lambda frac, msg: progress(lo + (hi - lo) * frac, msg)


def labelled(progress: Progress | None, phase: str) -> Progress | None:
    """A progress callback whose messages name the phase they belong to ('untrained control
    · DAS step 50/600'), so a second run of the same loop never reads as the first going
    backwards."""
    if progress is None:
        return None
    return lambda frac, msg: progress(frac, f"{phase} · {msg}")
