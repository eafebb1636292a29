"""The shipped complexity sweep (`python -m explorer complexity --shipped-grid`): the dial's
sweep (orthogonal, linear, RevNet h = 1..16 at every site; the trained network and its
random-features control; maps fitted on one half of the entities, tested on the other) for
every shipped width-16 model, as one long table `pretrained/complexity.csv`."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from explorer.analysis.complexity import DialSettings
from explorer.core.config import RunConfig
from explorer.core.progress import Progress, scaled_progress
from explorer.runs import complexity
from explorer.store import paths
from explorer.store.tables import write_table

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu")
SEEDS = (0, 1, 2, 3, 4)
OUT = paths.COMPLEXITY
COMMAND = paths.COMPLEXITY_COMMAND


def grid_sweep(base: RunConfig = RunConfig(), settings: DialSettings = DialSettings(),
               activations: tuple[str, ...] = ACTIVATIONS, seeds: tuple[int, ...] = SEEDS,
               sites: tuple[int, ...] | None = None, progress: Progress | None = None,
               workers: int = 2) -> pd.DataFrame:
    """One complexity sweep per (activation, seed) of `base`, with those two as columns."""
    frames, points = [], [(a, s) for a in activations for s in seeds]
    for i, (activation, seed) in enumerate(points):
        cfg = base.with_values(activation=activation, seed=seed)
        sweep, _, info = complexity.run(
            cfg, settings, sites=sites, workers=workers,
            progress=scaled_progress(progress, i / len(points), (i + 1) / len(points)))
        frames.append(sweep.frame.assign(activation=activation, seed=seed,
                                         model_source=info["model_source"]))
    return pd.concat(frames, ignore_index=True)


def ship(out: str | Path = OUT, progress: Progress | None = None, workers: int = 2) -> pd.DataFrame:
    start = time.perf_counter()
    table = grid_sweep(progress=progress, workers=workers)
    write_table(out, table.assign(seconds_total=round(time.perf_counter() - start, 1)))
    return table
