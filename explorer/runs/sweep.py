"""Sweeps: measure methods over a grid of config fields, as a long-form table.

A point is a flat config plus a method. Points that share a trained model (same task,
model, training and seed) form a group; groups are cut into chunks that a worker runs
(local processes, or Ray tasks). The model is trained once and kept in a checkpoint folder,
so chunks of one group share it. Rows are appended to the CSV as chunks finish: a killed
sweep resumes where it stopped and loses nothing it recorded.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from explorer.core.config import RunConfig, validate
from explorer.core.identity import model_key, point_key
from explorer.runs.measure import METHODS, ModelCache, measure
from explorer.core.progress import Progress


def expand_grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in a stable order."""
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def plan(grid: dict[str, list[Any]], base: RunConfig) -> list[tuple[RunConfig, str]]:
    """Validated (config, method) points; 'method' may be a grid field (default 'das')."""
    points = []
    for values in expand_grid(grid):
        methods = values.pop("method", "das")
        for method in [methods] if isinstance(methods, str) else methods:
            if method not in METHODS:
                raise ValueError(f"method: must be one of {', '.join(METHODS)} (got {method!r})")
            points.append((validate(RunConfig.from_flat({**base.to_flat(), **values})), method))
    return points


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


def done_keys(out: Path) -> set[str]:
    if not out.exists() or out.stat().st_size == 0:
        return set()
    return set(pd.read_csv(out, usecols=["key"]).key)


def append_rows(out: Path, rows: list[dict]) -> None:
    """Append rows, writing the header only for a new file; columns follow the file's."""
    frame = pd.DataFrame(rows)
    if out.exists() and out.stat().st_size > 0:
        columns = pd.read_csv(out, nrows=0).columns
        frame = frame.reindex(columns=columns)
        frame.to_csv(out, mode="a", header=False, index=False)
    else:
        frame.to_csv(out, index=False)
    with open(out, "a") as f:
        os.fsync(f.fileno())


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
    done = done_keys(out)
    todo = [(c, m) for c, m in points if point_key(c, m) not in done]
    work = chunks(todo, chunk_size)
    total, finished = len(points), len(points) - len(todo)
    if progress:
        progress(finished / max(total, 1), f"{finished}/{total} points done")
    args = (str(model_dir), str(rotation_dir) if rotation_dir else None, model_meta)
    for rows in _execute(work, args, workers, backend, address):
        append_rows(out, rows)
        finished += len(rows)
        if progress:
            progress(finished / max(total, 1), f"{finished}/{total} points done")
    return pd.read_csv(out) if out.exists() else pd.DataFrame()


def _execute(work: list, args: tuple, workers: int, backend: str,
             address: str | None) -> Iterable[list[dict]]:
    if backend == "ray":
        from explorer.runs.ray_backend import execute_ray

        yield from execute_ray(run_chunk, work, args, address)
    elif workers <= 1:
        for chunk in work:
            yield run_chunk(chunk, *args)
    else:
        yield from _execute_local(work, args, workers)


def _execute_local(work: list, args: tuple, workers: int) -> Iterable[list[dict]]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(run_chunk, chunk, *args) for chunk in work]
        for future in as_completed(futures):
            yield future.result()


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """['k=1,2,4', 'activation=relu,sigmoid'] -> {'k': ['1','2','4'], ...}."""
    grid: dict[str, list[str]] = {}
    for item in items:
        name, _, values = item.partition("=")
        name = name.strip().lstrip("-").replace("-", "_")
        if not values:
            raise ValueError(f"--grid {item!r}: expected NAME=V1,V2,...")
        grid[name] = [v.strip() for v in values.split(",") if v.strip()]
    return grid

