"""Progress reporting: a callback (fraction in [0, 1], message), and its rescaling onto a
part of a caller's bar. Every long phase reports through one of these."""

from __future__ import annotations

import threading
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


def side_by_side(progress: Progress | None, weights: dict[str, float],
                 lo: float = 0.0, hi: float = 1.0,
                 unnamed: tuple[str, ...] = ()) -> dict[str, Progress | None]:
    """One callback per phase that runs at the same time as the others (e.g. training in
    one thread, the control networks in another): the caller's bar shows
    lo + (hi - lo) * the weighted sum of the phases' fractions (weights sum to 1), so it
    moves forward whichever phase reports, and each message names its phase (unless it
    already begins with it: 'training step 300/2500', or the phase is `unnamed`: one whose
    messages name their own parts). Thread-safe."""
    if progress is None:
        return {name: None for name in weights}
    total = sum(weights.values())
    done = dict.fromkeys(weights, 0.0)
    lock = threading.Lock()

    def part(name: str) -> Progress:
        def report(frac: float, msg: str) -> None:
            with lock:
                done[name] = max(done[name], min(max(frac, 0.0), 1.0))
                overall = sum(weights[n] * f for n, f in done.items()) / total
                named = msg if name in unnamed or msg.lower().startswith(name.lower()) \
                    else f"{name} · {msg}"
                progress(lo + (hi - lo) * overall, named)
        return report

    return {name: part(name) for name in weights}
