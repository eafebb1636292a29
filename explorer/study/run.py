"""The findings study: the measurements beyond `pretrained/results.csv` that answer the
four questions of FINDINGS.md, as long-form CSVs (`python -m explorer study`).

    <out>/probes.csv    <out>/search.csv   <out>/oracles.csv   <out>/angles.csv
    <out>/range.csv     <out>/illusion.csv <out>/maps.csv      <out>/basin.csv
    <out>/seed_angles.csv   between-seed angles of the input subspaces (from subspaces.safetensors)
    <out>/units.csv         the (activation, seed) models finished, their keys and seconds
    <out>/manifest.json     the grid, the command and the run time

One unit of work is one trained model (`explorer.study.measure.measure_model`); models come
from a checkpoint folder (`pretrained/models`, trained there if missing). Units run in
worker processes; the main process appends each finished unit's rows to every part and then
records the unit with the key of its model (`core.identity.model_key`; a budget unit, its
seeds' keys), so a killed study resumes where it stopped and a unit whose model has changed
since (a new training recipe) is measured again (rows of unrecorded units are dropped first; appends and rewrites are those of `explorer.store.tables`, safe against a
torn last line). Workers exit when the main process dies (`explorer.runs.executors`).
Deterministic given the seeds: every random stream derives from the seed.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Iterable

import pandas as pd
import torch
from safetensors.torch import load_file, save_file

from explorer.core.config import RunConfig
from explorer.core.identity import model_key
from explorer.analysis.subspaces import principal_angles
from explorer.runs.executors import run_local
from explorer.runs.measure import ModelCache
from explorer.core.progress import Progress
from explorer.store.paths import BUDGET_COMMAND, MODELS, STUDY_COMMAND as COMMAND
from explorer.store.tables import (BUDGET, PARTS, append_rows, load_study, read_part, read_table,
                                   write_table)
from explorer.study.budget import BudgetGrid, budget_rows
from explorer.study.measure import StudyGrid, measure_model

QUICK = StudyGrid(activations=("relu", "sigmoid"), seeds=(0, 1), ks=(8,), lrs=(0.01,),
                  restarts=2, das_steps=150, n_train_pairs=1024, n_val_pairs=256,
                  n_test_pairs=512, probe_examples=1000, n_shuffles=1, basin_draws=1)
SPACES = "subspaces.safetensors"
UNIT_COLUMNS = ("activation", "seed", "model", "seconds")
BUDGET_UNIT_COLUMNS = ("activation", "map", "k", "model", "seconds")
QUICK_BUDGET = BudgetGrid(activations=("relu", "sigmoid"), seeds=(0, 1), restarts=2,
                          steps=300, budgets=(0, 100, 300))


def run_unit(base_flat: dict, activation: str, seed: int, grid: StudyGrid,
             model_dir: str | None) -> tuple[dict, dict, float]:
    """Worker entry point: (parts, input subspaces, seconds) for one model."""
    from explorer.core.rng import fix_threads

    fix_threads()
    start = time.perf_counter()
    cfg = grid.config(RunConfig.from_flat(base_flat), activation, seed)
    model, accuracy = ModelCache(Path(model_dir) if model_dir else None).get(cfg)
    parts, spaces = measure_model(model, cfg, accuracy, grid)
    return parts, spaces, round(time.perf_counter() - start, 2)


def current_units(path: Path, columns: list[str], keys: dict[tuple, str]) -> set[tuple]:
    """The units recorded in `path`, those of `keys` (unit -> its model's key now) only if
    recorded under that key. Their records under another key, or none (written before units had keys), are removed
    from the file, so those units are measured again; units outside `keys` (another
    activation's, in a run for some activations only) keep their records."""
    units = read_table(path)
    if units.empty:
        return set()
    recorded = [tuple(int(v) if c in ("seed", "k") else v for c, v in zip(columns, row))
                for row in units[columns].itertuples(index=False)]
    models = units["model"] if "model" in units else [None] * len(units)
    keep = [unit not in keys or keys[unit] == model for unit, model in zip(recorded, models)]
    if not all(keep):
        write_table(path, units[keep])
    return {unit for unit, kept in zip(recorded, keep) if kept}


def drop_unrecorded(out: Path, done: set[tuple[str, int]]) -> None:
    """Remove rows a killed run appended for units it never recorded as finished."""
    for part in PARTS:
        path = out / f"{part}.csv"
        frame = read_part(path)
        if not frame.empty:
            keep = [(a, int(s)) in done for a, s in zip(frame.activation, frame.seed)]
            if not all(keep):
                write_table(path, frame[keep])


def record(out: Path, activation: str, seed: int, parts: dict, spaces: dict,
           seconds: float, model: str) -> None:
    for part, rows in parts.items():
        if rows:
            append_rows(out / f"{part}.csv", rows)
    packed = out / SPACES
    tensors = load_file(packed) if packed.exists() else {}
    tensors.update({f"{activation}/s{seed}/{name}": t for name, t in spaces.items()})
    if tensors:  # write then rename: a kill leaves the old file or the new one
        tmp = packed.with_name(f".{packed.name}.tmp-{os.getpid()}")
        save_file(tensors, tmp)
        os.replace(tmp, packed)
    append_rows(out / "units.csv", [{"activation": activation, "seed": seed, "model": model,
                                     "seconds": seconds}], columns=UNIT_COLUMNS)


def seed_angle_rows(tensors: dict[str, torch.Tensor]) -> list[dict]:
    """At the input, where every model shares the space: principal angles between the
    subspaces that different seeds' searches found (same activation, k, init, variable)."""
    groups: dict[tuple, dict[int, torch.Tensor]] = {}
    for name, t in tensors.items():
        activation, seed, k, init, var = name.split("/")
        groups.setdefault((activation, k, init, var), {})[int(seed[1:])] = t
    rows = []
    for (activation, k, init, var), by_seed in sorted(groups.items()):
        seeds = sorted(by_seed)
        for i, a in enumerate(seeds):
            for b in seeds[i + 1:]:
                deg = torch.rad2deg(principal_angles(by_seed[a], by_seed[b]))
                rows.append({"activation": activation, "k": int(k[1:]), "init": init,
                             "variable": var, "seed_a": a, "seed_b": b,
                             "mean_degrees": float(deg.mean()), "max_degrees": float(deg.max())})
    return rows


def study(out: str | Path, grid: StudyGrid = StudyGrid(), base: RunConfig | None = None,
          model_dir: str | Path | None = MODELS, workers: int = 1,
          progress: Progress | None = None, force: bool = False) -> dict[str, pd.DataFrame]:
    """Measure every (activation, seed) unit not yet recorded; returns every part."""
    out, base = Path(out), base or RunConfig()
    out.mkdir(parents=True, exist_ok=True)
    if model_dir:
        Path(model_dir).mkdir(parents=True, exist_ok=True)
    if force:
        for path in [*(out / f"{p}.csv" for p in PARTS), out / "units.csv", out / SPACES]:
            path.unlink(missing_ok=True)
    units = [(a, s) for a in grid.activations for s in grid.seeds]
    keys = {(a, s): model_key(grid.config(base, a, s)) for a, s in units}
    recorded = current_units(out / "units.csv", ["activation", "seed"], keys)
    drop_unrecorded(out, recorded)
    done = recorded & set(units)
    todo = [u for u in units if u not in done]
    start, finished = time.perf_counter(), len(units) - len(todo)
    _report(progress, finished, len(units), "models done")
    tail = (grid, str(model_dir) if model_dir else None)
    for (activation, seed), (parts, spaces, seconds) in _execute(run_unit, todo,
                                                                 (base.to_flat(),), tail,
                                                                 workers):
        record(out, activation, seed, parts, spaces, seconds, keys[activation, seed])
        finished += 1
        _report(progress, finished, len(units), f"{activation} seed {seed} ({seconds:.0f} s)")
    spaces_path = out / SPACES
    rows = seed_angle_rows(load_file(spaces_path)) if spaces_path.exists() else []
    pd.DataFrame(rows).to_csv(out / "seed_angles.csv", index=False)
    manifest = {"command": COMMAND, "grid": asdict(grid), "base_config": base.to_flat(),
                "units": len(units), "units_computed_last_run": len(todo),
                "seconds_last_run": round(time.perf_counter() - start, 1)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return load_study(out)


def _report(progress: Progress | None, finished: int, total: int, message: str) -> None:
    if progress:
        progress(finished / max(total, 1), f"{finished}/{total} {message}")




def _execute(fn, todo: list, head: tuple, tail: tuple,
             workers: int) -> Iterable[tuple[tuple, tuple]]:
    """(unit, fn(*head, *unit, *tail)) for every unit, in the one local process pool
    (explorer.runs.executors: workers exit when this process dies)."""
    tasks = [(*head, *unit, *tail) for unit in todo]
    for i, result in run_local(fn, tasks, workers=workers):
        yield todo[i], result


def quick_grid(grid, activations: tuple[str, ...] | None, seeds: tuple[int, ...] | None):
    """The grid (StudyGrid or BudgetGrid) with the activations and seeds replaced where given."""
    return replace(grid, **{k: v for k, v in (("activations", activations), ("seeds", seeds))
                            if v})


def run_budget_unit(base_flat: dict, activation: str, map_name: str, k: int, grid: BudgetGrid,
                    model_dir: str | None) -> tuple[list[dict], float]:
    """Worker entry point: (budget rows, seconds) for one activation's seeds at (map, k)."""
    from explorer.core.rng import fix_threads

    fix_threads()
    start = time.perf_counter()
    cfg = grid.config(RunConfig.from_flat(base_flat), activation, map_name, k)
    cache = ModelCache(Path(model_dir) if model_dir else None)
    loaded = [cache.get(cfg.with_values(seed=s)) for s in grid.seeds]
    rows = budget_rows([m for m, _ in loaded], [a for _, a in loaded], cfg, grid)
    return rows, round(time.perf_counter() - start, 2)


def budget_models(grid: BudgetGrid, base: RunConfig, activation: str, map_name: str,
                  k: int) -> str:
    """A budget unit's model key: its seeds' model keys, joined."""
    cfg = grid.config(base, activation, map_name, k)
    return "+".join(model_key(cfg.with_values(seed=s)) for s in grid.seeds)


def budget_study(out: str | Path, grid: BudgetGrid = BudgetGrid(),
                 base: RunConfig | None = None, model_dir: str | Path | None = MODELS,
                 workers: int = 1, progress: Progress | None = None,
                 force: bool = False) -> pd.DataFrame:
    """budget.csv: one unit per (activation, map, k), resumable like the study's parts."""
    out, base = Path(out), base or RunConfig()
    out.mkdir(parents=True, exist_ok=True)
    path, units_path = out / f"{BUDGET}.csv", out / f"{BUDGET}_units.csv"
    if model_dir:
        Path(model_dir).mkdir(parents=True, exist_ok=True)
    if force:
        for p in (path, units_path):
            p.unlink(missing_ok=True)
    units = [(a, m, k) for a in grid.activations for m, k in grid.settings]
    keys = {(a, m, k): budget_models(grid, base, a, m, k) for a, m, k in units}
    recorded = current_units(units_path, ["activation", "map", "k"], keys)
    if path.exists() and path.stat().st_size > 0:  # rows of a killed run's unrecorded units
        frame = read_part(path)
        keep = [(a, m, int(k)) in recorded
                for a, m, k in zip(frame.activation, frame["map"], frame.k)]
        if not all(keep):
            write_table(path, frame[keep])
    done = recorded & set(units)
    todo, start = [u for u in units if u not in done], time.perf_counter()
    finished = len(units) - len(todo)
    _report(progress, finished, len(units), "budget units done")
    tail = (grid, str(model_dir) if model_dir else None)
    for (activation, map_name, k), (rows, seconds) in _execute(run_budget_unit, todo,
                                                               (base.to_flat(),), tail, workers):
        append_rows(path, rows)
        append_rows(units_path, [{"activation": activation, "map": map_name, "k": k,
                                  "model": keys[activation, map_name, k], "seconds": seconds}],
                    columns=BUDGET_UNIT_COLUMNS)
        finished += 1
        _report(progress, finished, len(units), f"{activation} {map_name} k={k} ({seconds:.0f} s)")
    manifest = {"command": BUDGET_COMMAND, "grid": asdict(grid), "base_config": base.to_flat(),
                "units": len(units), "units_computed_last_run": len(todo),
                "seconds_last_run": round(time.perf_counter() - start, 1)}
    (out / f"{BUDGET}_manifest.json").write_text(json.dumps(manifest, indent=2))
    return read_part(path) if path.exists() else pd.DataFrame()
