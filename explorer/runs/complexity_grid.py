"""The shipped complexity sweep (`python -m explorer complexity --shipped-grid`): the dial's
sweep (orthogonal, linear, RevNet h = 1..16 at every site; the trained network and its
random-features control; maps fitted on one half of the entities, tested on the other) for
every shipped width-16 model, as one long table `pretrained/complexity.csv`. A block whose
model is still the shipped checkpoint it names (`model_source`, whose file name holds the
model's key) is kept; the others (a model retrained with a new recipe) are swept again."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from explorer.analysis.complexity import DialSettings
from explorer.core.config import RunConfig
from explorer.core.identity import model_file_name
from explorer.core.progress import Progress, scaled_progress
from explorer.runs import complexity
from explorer.store import paths
from explorer.store.tables import read_table, write_table

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu")
SEEDS = (0, 1, 2, 3, 4)
OUT = paths.COMPLEXITY
COMMAND = paths.COMPLEXITY_COMMAND


def grid_sweep(base: RunConfig = RunConfig(), settings: DialSettings = DialSettings(),
               activations: tuple[str, ...] = ACTIVATIONS, seeds: tuple[int, ...] = SEEDS,
               sites: tuple[int, ...] | None = None, progress: Progress | None = None,
               workers: int = 2, points: list[tuple[str, int]] | None = None) -> pd.DataFrame:
    """One complexity sweep per (activation, seed) of `base` (or per one of `points`), with
    those two as columns."""
    frames = []
    points = [(a, s) for a in activations for s in seeds] if points is None else points
    for i, (activation, seed) in enumerate(points):
        cfg = base.with_values(activation=activation, seed=seed)
        sweep, _, info = complexity.run(
            cfg, settings, sites=sites, workers=workers,
            progress=scaled_progress(progress, i / len(points), (i + 1) / len(points)))
        frames.append(sweep.frame.assign(activation=activation, seed=seed,
                                         model_source=info["model_source"]))
    return pd.concat(frames, ignore_index=True)


def current_blocks(table: pd.DataFrame, base: RunConfig = RunConfig()) -> pd.DataFrame:
    """The rows of `table` whose model is still the shipped checkpoint they name."""
    if table.empty or "model_source" not in table:
        return table.iloc[:0]
    names = [f"shipped checkpoint {model_file_name(base.with_values(activation=a, seed=int(s)))}"
             for a, s in zip(table.activation, table.seed)]
    return table[table.model_source == pd.Series(names, index=table.index)]


def ship(out: str | Path = OUT, progress: Progress | None = None, workers: int = 2) -> pd.DataFrame:
    """Sweep every shipped model whose block in `out` is missing or names another model."""
    start, out = time.perf_counter(), Path(out)
    kept = current_blocks(read_table(out)) if out.exists() else pd.DataFrame()
    done = set(zip(kept.activation, kept.seed.astype(int))) if not kept.empty else set()
    todo = [(a, s) for a in ACTIVATIONS for s in SEEDS if (a, s) not in done]
    new = grid_sweep(progress=progress, workers=workers, points=todo) if todo else kept.iloc[:0]
    new = new.assign(seconds_total=round(time.perf_counter() - start, 1))
    table = pd.concat([kept, new], ignore_index=True)
    order = table.activation.map(ACTIVATIONS.index) * len(SEEDS) + table.seed.astype(int)
    table = table.iloc[order.argsort(kind="stable")].reset_index(drop=True)
    write_table(out, table)
    return table
