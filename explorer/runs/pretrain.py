"""Shipped checkpoints and precomputed results (`python -m explorer pretrain`).

    pretrained/models/*.safetensors   one checkpoint per (activation, width, seed)
    pretrained/results.csv            long-form: DAS (with controls) and neuron-wise IIA
    pretrained/rotations.safetensors  every learned DAS rotation of the table, by result key
    pretrained/manifest.json          the grid, the command and how long it took

Width-16 models get every site x k in {1, 2, 4, 8} for Both Equality Relations, and every
site at k = 8 for the other hypotheses (Left Equality; Identity of First Argument, the
deflationary control); the width-32 models the default site, k and hypothesis. That keeps
a full regeneration near 30 minutes on 2 cores (all k for every hypothesis took ~55).
Deterministic given the seeds, resumable like any sweep.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from safetensors.torch import load_file, save_file

from explorer.core.config import RunConfig
from explorer.core.identity import ADDED, model_file_name, point_key
from explorer.runs.sweep import sweep
from explorer.store import tables

COMMAND = "python -m explorer pretrain"


@dataclass(frozen=True)
class PretrainGrid:
    activations: tuple[str, ...] = ("relu", "sigmoid", "tanh", "gelu")
    widths: tuple[int, ...] = (16, 32)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    detail_width: int = 16  # these models get every site, k and hypothesis
    ks: tuple[int, ...] = (1, 2, 4, 8)  # for the default hypothesis
    control_ks: tuple[int, ...] = (8,)  # for the other hypotheses
    methods: tuple[str, ...] = ("das", "neuron")


QUICK = PretrainGrid(activations=("relu",), widths=(16,), seeds=(0,), ks=(8,))
DEFAULT_HYPOTHESIS = "both"

SHIPPED_HYPOTHESES = ("both", "left", "identity")  # in results.csv (output: computed on demand)

def points(grid: PretrainGrid, base: RunConfig) -> list[tuple[RunConfig, str]]:
    """Every (config, method) the grid asks for, detail models first."""
    out = []
    for width in grid.widths:
        for activation in grid.activations:
            for seed in grid.seeds:
                model = base.with_values(activation=activation, width=width, seed=seed)
                for cfg in _settings(model, grid, width == grid.detail_width):
                    out += [(cfg, method) for method in grid.methods]
    return out


def _settings(model: RunConfig, grid: PretrainGrid, detail: bool) -> list[RunConfig]:
    if not detail:
        return [model]
    return [model.with_values(site=site, k=k, hypothesis=hyp)
            for site in range(model.model.layers + 1) for hyp in SHIPPED_HYPOTHESES
            for k in (grid.ks if hyp == DEFAULT_HYPOTHESIS else grid.control_ks)]


def prune(folder: Path, results: pd.DataFrame,
          points: list[tuple[RunConfig, str]]) -> pd.DataFrame:
    """Only what the grid asks for: rows and checkpoints under other keys (an earlier recipe
    or grid) are removed, so a regeneration leaves no stale entry behind."""
    keys = {point_key(cfg, method) for cfg, method in points}
    kept = results[results.key.isin(keys)]
    if len(kept) < len(results):  # rewritten from its text, so every kept row reads as before
        text = pd.read_csv(folder / "results.csv", dtype=str, keep_default_na=False)
        tables.write_table(folder / "results.csv", text[text.key.isin(keys)])
    models = {model_file_name(cfg) for cfg, _ in points}
    for path in (folder / "models").glob("*.safetensors"):
        if path.name not in models:
            path.unlink()
    return kept.reset_index(drop=True)


def pack_rotations(results: pd.DataFrame, folder: Path) -> None:
    """Gather the DAS rotations (every k) into one file keyed by result key (only those of
    `results`)."""
    keep = set(results[results.method == "das"].key)
    packed = folder / "rotations.safetensors"
    tensors = load_file(packed) if packed.exists() else {}
    tensors = {key: value for key, value in tensors.items() if key in keep}
    for key in keep:
        path = folder / "rotations-work" / f"{key}.safetensors"
        if path.exists():
            tensors[key] = load_file(path)["rotation"]
    if tensors:
        save_file(tensors, packed)


def fill_rotations(folder: Path, points: list[tuple[RunConfig, str]], workers: int,
                   progress=None) -> int:
    """Measure again the table's DAS points whose rotation is stored nowhere (an earlier
    pretrain packed only the default k), from their shipped checkpoints, for their
    rotations; every recomputed row must equal the recorded one (all but `seconds`): the
    engine is deterministic, so a difference means the table is stale, and it raises.
    Returns how many points it measured."""
    packed, work = folder / "rotations.safetensors", folder / "rotations-work"
    stored = set(load_file(packed)) if packed.exists() else set()
    recorded = tables.keys(folder / "results.csv")
    missing = [(cfg, method) for cfg, method in points if method == "das"
               and (key := point_key(cfg, method)) in recorded and key not in stored
               and not (work / f"{key}.safetensors").exists()]
    if not missing:
        return 0
    scratch = work / "recomputed.csv"
    sweep(missing, scratch, workers=workers, model_dir=folder / "models", rotation_dir=work,
          progress=progress)
    again = pd.read_csv(scratch, dtype=str, keep_default_na=False).set_index("key")
    table = pd.read_csv(folder / "results.csv", dtype=str, keep_default_na=False)
    table = table.set_index("key").loc[again.index]
    columns = [c for c in again.columns if c in table.columns and c != "seconds"]
    differ = {key: [c for c in columns if not _same(c, again.at[key, c], table.at[key, c])]
              for key in again.index}
    differ = {key: cols for key, cols in differ.items() if cols}
    if differ:
        key, cols = next(iter(differ.items()))
        raise RuntimeError(f"{len(differ)} recomputed rows differ from results.csv, e.g. "
                           f"{key} in {', '.join(cols[:5])}: the table is stale")
    scratch.unlink()
    return len(missing)


def _same(column: str, new: str, recorded: str) -> bool:
    """One cell of a recomputed row against the table's: the same text or number (the table
    may write 400 as 400.0). An empty cell in the table is the default only for a field
    added after its row was written (`identity.ADDED`, as `store.precomputed.matching`)."""
    if recorded == "" and column in ADDED:
        recorded = str(RunConfig().to_flat()[column])
    if new == recorded:
        return True
    try:
        a, b = float(new), float(recorded)
    except ValueError:
        return False
    return a == b or (math.isnan(a) and math.isnan(b))


def pretrain(out: str | Path = "pretrained", grid: PretrainGrid = PretrainGrid(),
             workers: int = 2, progress=None, base: RunConfig | None = None) -> pd.DataFrame:
    base = base or RunConfig()
    folder = Path(out)
    work = folder / "rotations-work"
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    todo = points(grid, base)
    recorded = tables.keys(folder / "results.csv") if (folder / "results.csv").exists() else set()
    computed = sum(point_key(cfg, method) not in recorded for cfg, method in todo)
    results = sweep(todo, folder / "results.csv", workers=workers,
                    model_dir=folder / "models", rotation_dir=work, progress=progress,
                    model_meta={"command": COMMAND})
    results = prune(folder, results, todo)
    filled = fill_rotations(folder, todo, workers, progress)
    pack_rotations(results, folder)
    shutil.rmtree(work)
    manifest = {"command": COMMAND, "grid": grid.__dict__, "base_config": base.to_flat(),
                "rows": len(results), "points_computed_last_run": computed,
                "rotations_recomputed_last_run": filled,
                "seconds_last_run": round(time.perf_counter() - start, 1)}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=list))
    return results
