"""Sweeps: measure methods over a grid of config fields, as a long-form table.

A point is a flat config plus a method. Points that share a trained model (same task,
model, training and seed) form a group; groups are cut into chunks that a worker runs
(local processes, or Ray tasks). The model is trained once and kept in a checkpoint folder,
so chunks of one group share it. Rows are appended to the CSV as chunks finish
(`explorer.store.tables`: atomic appends, a torn last line dropped on resume, columns
declared from the grid): a killed sweep resumes where it stopped and loses nothing it
recorded. Local workers exit when the main process dies (`explorer.runs.executors`).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from explorer.core.config import (RENAMED, ConfigError, RunConfig, echo, flat_field_types,
                                  n_variables, validate)
from explorer.core.identity import model_key, point_key
from explorer.core.progress import Progress
from explorer.core.task import INTERVENTION_TYPES
from explorer.runs.executors import run_local
from explorer.runs.measure import METHODS, ModelCache, measure
from explorer.store import tables


def expand_grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a stable order."""
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def plan(grid: dict[str, list[Any]], base: RunConfig) -> list[tuple[RunConfig, str]]:
    """Validated (config, method) points; 'method' may be a grid field (default 'das').
    A bad point raises ValueError naming the grid field (or flag) and the point."""
    points = []
    for values in expand_grid(grid):
        methods = values.pop("method", "das")
        for method in [methods] if isinstance(methods, str) else methods:
            if method not in METHODS:
                raise ValueError(f"method: must be one of {', '.join(METHODS)} (got {method!r})")
            points.append((_point(base, values), method))
    return points


def _point(base: RunConfig, values: dict[str, Any]) -> RunConfig:
    try:
        return validate(RunConfig.from_flat({**base.to_flat(), **values}))
    except ConfigError as err:
        where = ", ".join(f"{k}={v}" for k, v in values.items())
        name = (f"--grid {err.field}" if err.field in values
                else "--" + err.field.replace("_", "-"))
        raise ValueError(f"{name}: {err.message} (at the grid point {where or 'base'})") from None


DAS_CONTROLS = ("untrained_das", "random_rotation", "closest_permutation", "full_layer")


def row_columns(cfg: RunConfig, method: str) -> list[str]:
    """The measurement columns `measure` fills for this config and method."""
    types = INTERVENTION_TYPES[n_variables(cfg.das.hypothesis)]
    head = ["task_accuracy", "no_intervention_baseline", "iia", "iia_label_changed",
            *(f"iia_{name}" for name in types)]
    if method == "neuron":
        return head + ["neurons"]
    return head + [f"{name}_iia" for name in DAS_CONTROLS] + ["restart_iia_min",
                                                               "restart_iia_max"]


def schema(points: list[tuple[RunConfig, str]]) -> list[str]:
    """Every column any point of the sweep writes, known before the first row."""
    measured = [c for cfg, method in points for c in row_columns(cfg, method)]
    return list(dict.fromkeys(["key", "method", *RunConfig().to_flat(), *measured, "seconds"]))


def chunks(points: list[tuple[RunConfig, str]], size: int) -> list[list[tuple[dict, str]]]:
    """Points grouped by model, then cut into chunks of at most `size`."""
    groups: dict[str, list] = {}
    for cfg, method in points:
        groups.setdefault(model_key(cfg), []).append((cfg.to_flat(), method))
    return [g[i:i + size] for g in groups.values() for i in range(0, len(g), size)]


def run_chunk(chunk: list[tuple[dict, str]], model_dir: str, rotation_dir: str | None = None,
              model_meta: dict | None = None) -> list[dict]:
    """Worker entry point: measure each point of one chunk (one model). DAS rotations are
    saved as `rotation_dir/<key>.safetensors` when a folder is given."""
    from safetensors.torch import save_file

    from explorer.core.rng import fix_threads

    fix_threads()
    cache = ModelCache(Path(model_dir), model_meta)
    rows = []
    for flat, method in chunk:
        start = time.perf_counter()
        cfg = RunConfig.from_flat(flat)
        row, rotation = measure(cache, cfg, method)
        key = point_key(cfg, method)
        if rotation_dir and rotation is not None:
            save_file({"rotation": rotation.contiguous()}, f"{rotation_dir}/{key}.safetensors")
        rows.append({"key": key, "method": method, **flat, **row,
                     "seconds": round(time.perf_counter() - start, 3)})
    return rows


def sweep(grid: dict[str, list[Any]], out: str | Path, base: RunConfig | None = None,
          workers: int = 1, backend: str = "local", address: str | None = None,
          model_dir: str | Path | None = None, chunk_size: int = 8,
          progress: Progress | None = None, rotation_dir: str | Path | None = None,
          model_meta: dict | None = None) -> pd.DataFrame:
    """Run the grid's missing points; returns the whole table (earlier rows included).
    `points` may be given instead of a grid (a list of (config, method))."""
    out = Path(out)
    model_dir = Path(model_dir) if model_dir else out.with_name(out.stem + "-models")
    model_dir.mkdir(parents=True, exist_ok=True)
    points = plan(grid, base or RunConfig()) if isinstance(grid, dict) else list(grid)
    dropped = tables.repair(out)
    done = tables.keys(out)
    todo = [(c, m) for c, m in points if point_key(c, m) not in done]
    work = chunks(todo, chunk_size)
    total, finished = len(points), len(points) - len(todo)
    if progress:
        note = f" (dropped a partial last line of {dropped} bytes)" if dropped else ""
        progress(finished / max(total, 1), f"{finished}/{total} points done{note}")
    args = (str(model_dir), str(rotation_dir) if rotation_dir else None, model_meta)
    columns = schema(points)
    tables.append_rows(out, [], columns=columns)  # the header, from the grid
    for rows in _execute(work, args, workers, backend, address):
        tables.append_rows(out, rows, columns=columns)
        finished += len(rows)
        if progress:
            progress(finished / max(total, 1), f"{finished}/{total} points done")
    return tables.read_table(out)


def _execute(work: list, args: tuple, workers: int, backend: str,
             address: str | None) -> Iterable[list[dict]]:
    if backend == "ray":
        from explorer.runs.ray_backend import execute_ray

        yield from execute_ray(run_chunk, work, args, address)
        return
    for _, rows in run_local(run_chunk, [(chunk, *args) for chunk in work], workers=workers):
        yield rows


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """['k=1,2,4', 'activation=relu,sigmoid'] -> {'k': ['1','2','4'], ...}. Raises
    ValueError naming the --grid argument: no name, an unknown field, a field given twice,
    an empty value, or a value the field cannot take."""
    grid: dict[str, list[str]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip().lstrip("-").replace("-", "_")
        name = RENAMED.get(name, name)  # an older name (layer) is its current one (site)
        where = f"--grid {echo(item)}"
        if not sep or not name:
            raise ValueError(f"{where}: expected NAME=V1,V2,... (a config field or method)")
        if name != "method" and name not in flat_field_types():
            raise ValueError(f"{where}: unknown field {echo(name)}; known: method, "
                             f"{', '.join(flat_field_types())}")
        if name in grid:
            raise ValueError(f"{where}: {name} is given twice")
        listed = [v.strip() for v in values.split(",")]
        if not all(listed):
            raise ValueError(f"{where}: every value must be non-empty (NAME=V1,V2,...)")
        for value in listed:
            _check_value(where, name, value)
        grid[name] = listed
    return grid


def _check_value(where: str, name: str, value: str) -> None:
    if name == "method":
        if value not in METHODS:
            raise ValueError(f"{where}: method must be one of {', '.join(METHODS)} "
                             f"(got {echo(value)})")
        return
    try:
        RunConfig.from_flat({name: value})
    except ConfigError as err:
        raise ValueError(f"{where}: {err.message}") from None
