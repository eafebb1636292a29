"""pretrained/results.csv as lookups for one configuration: pandas only (no torch), so the
app can draw a precomputed chart before the heavy imports of a cold start.

    results_for(cfg)     the rows (das, then neuron) for exactly this config
    nearest(cfg)         the precomputed configs closest to an off-grid cfg, with their rows
    seed_spread(cfg)     the same config at every seed the table has
    site_profile(cfg)    the same config at every site
    spread_summary(rows) per method: seeds, mean, min, max IIA
    controls_frame(rows) DAS, neuron-wise, controls (`core.vocabulary.CONTROLS`) and
                         baseline in the DAS page's shape

A row matches when every config column equals the config's field (the CSV holds every flat
field). A missing or partial table gives empty frames. The lookups are memoised per
config and version of the file (its modification time): every page run asks them again,
and each answer is a copy, so a caller may change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.core.config import RENAMED, RunConfig
from explorer.core.identity import ADDED
from explorer.core.vocabulary import CONTROLS
from explorer.store.paths import PRETRAINED

FOLDER = PRETRAINED
METHODS = ("das", "neuron")


def mtime(path: Path) -> float:
    """A cache key that changes when a file or folder changes (0 when it is absent)."""
    return path.stat().st_mtime if path.exists() else 0.0


def results_table(folder: Path = FOLDER) -> pd.DataFrame:
    """The whole results.csv (empty when the folder has none)."""
    path = Path(folder) / "results.csv"
    return _read(path, mtime(path))


@lru_cache(maxsize=4)
def _read(path: Path, stamp: float) -> pd.DataFrame:
    """The table; empty when absent or unreadable (e.g. caught mid-append by a sweep)."""
    try:
        return pd.read_csv(path).rename(columns=RENAMED)  # a table of older names upgraded
    except (OSError, ValueError, UnicodeDecodeError):  # ParserError is a ValueError
        return pd.DataFrame(columns=["key", "method", *RunConfig().to_flat()])


def matching(cfg: RunConfig, ignore: tuple[str, ...] = (), folder: Path = FOLDER) -> pd.DataFrame:
    """Rows whose config columns equal cfg's, except the `ignore`d fields. A field added
    after a row was written (`identity.ADDED`: no column, or an empty cell, as in the rows
    from before a sweep widened the table) matches at its default."""
    table, defaults = results_table(folder), RunConfig().to_flat()
    flat = {k: v for k, v in cfg.to_flat().items() if k not in ignore}
    for name in set(flat) - set(table.columns):
        if name in ADDED and flat[name] == defaults[name]:
            del flat[name]
    if table.empty or not set(flat) <= set(table.columns):
        return table.iloc[0:0]
    keep = pd.Series(True, index=table.index)
    for name, value in flat.items():
        same = table[name] == value
        if name in ADDED and value == defaults[name]:
            same |= table[name].isna()
        keep &= same
    return table[keep]


def _ordered(rows: pd.DataFrame, *by: str) -> pd.DataFrame:
    """Sorted by the `by` columns, then das before neuron."""
    order = rows.method.map({m: i for i, m in enumerate(METHODS)})
    return (rows.assign(_order=order).sort_values([*by, "_order"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def results_for(cfg: RunConfig, folder: Path = FOLDER) -> pd.DataFrame:
    return _lookup(cfg, (), (), folder)


def neuron_subsets(cfg: RunConfig, folder: Path = FOLDER) -> tuple[tuple[int, ...], ...] | None:
    """The neuron-wise search's chosen units per variable for cfg (the `neurons` column,
    "0 1 2;3 4 5"), or None when the table has no such row."""
    rows = results_for(cfg, folder)
    rows = rows[rows.method == "neuron"] if "neurons" in rows else rows.iloc[:0]
    if rows.empty or not isinstance(rows.neurons.iloc[0], str):
        return None
    return tuple(tuple(int(u) for u in part.split()) for part in rows.neurons.iloc[0].split(";"))


def seed_spread(cfg: RunConfig, folder: Path = FOLDER) -> pd.DataFrame:
    return _lookup(cfg, ("seed",), ("seed",), folder)


def site_profile(cfg: RunConfig, folder: Path = FOLDER) -> pd.DataFrame:
    return _lookup(cfg, ("site",), ("site",), folder)


def _lookup(cfg: RunConfig, ignore: tuple[str, ...], by: tuple[str, ...],
            folder: Path) -> pd.DataFrame:
    """matching(cfg, ignore) ordered by `by`, memoised per version of the table (a copy)."""
    path = Path(folder) / "results.csv"
    return _lookup_once(cfg, ignore, by, Path(folder), mtime(path)).copy()


@lru_cache(maxsize=256)
def _lookup_once(cfg: RunConfig, ignore: tuple[str, ...], by: tuple[str, ...], folder: Path,
                 stamp: float) -> pd.DataFrame:
    return _ordered(matching(cfg, ignore, folder), *by)


@dataclass(frozen=True)
class Nearby:
    """A precomputed configuration near the asked one: the fields that differ, as
    {field: (precomputed value, asked value)}, its full flat config and its rows."""

    differences: dict
    flat: dict
    rows: pd.DataFrame


def nearest(cfg: RunConfig, limit: int = 3, folder: Path = FOLDER) -> list[Nearby]:
    """The precomputed configurations closest to cfg, itself excluded: fewest differing
    fields first, then the smallest differences (numbers by |log2| of their ratio, other
    values count 1). Empty when the table is."""
    table, flat, defaults = results_table(folder), cfg.to_flat(), RunConfig().to_flat()
    columns = [name for name in flat if name in table.columns]
    added = [name for name in flat if name not in table.columns]  # rows hold the default
    if table.empty or any(name not in ADDED for name in added):
        return []
    configs = table[columns].drop_duplicates()
    fixed = {name: (defaults[name], flat[name]) for name in added if flat[name] != defaults[name]}
    count = pd.Series(len(fixed), index=configs.index)
    distance = pd.Series(float(len(fixed)), index=configs.index)
    for name in columns:
        differs = configs[name] != flat[name]
        count += differs
        if isinstance(flat[name], (int, float)) and not isinstance(flat[name], bool):
            ratio = (configs[name].astype(float).abs() + 1) / (abs(flat[name]) + 1)
            distance += np.abs(np.log2(ratio)).where(differs, 0.0)
        else:
            distance += differs.astype(float)
    order = pd.DataFrame({"n": count, "d": distance})
    order = order[order.n > 0].sort_values(["n", "d"], kind="stable")
    found = []
    for index in order.index[:limit]:
        theirs = {name: configs.at[index, name] for name in columns}
        theirs = {k: v.item() if hasattr(v, "item") else v for k, v in theirs.items()}
        keep = np.logical_and.reduce([table[name] == value for name, value in theirs.items()])
        found.append(Nearby({**{k: (v, flat[k]) for k, v in theirs.items() if v != flat[k]},
                             **fixed}, {**theirs, **{k: defaults[k] for k in added}},
                            _ordered(table[keep])))
    return found


def spread_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per method: seeds, mean, min and max IIA (and mean task accuracy)."""
    if rows.empty:
        return pd.DataFrame(columns=["method", "seeds", "mean", "min", "max", "task_accuracy"])
    grouped = rows.groupby("method", sort=False)
    return pd.DataFrame({"seeds": grouped.seed.nunique(), "mean": grouped.iia.mean(),
                         "min": grouped.iia.min(), "max": grouped.iia.max(),
                         "task_accuracy": grouped.task_accuracy.mean()}).reset_index()


def controls_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """name, kind, iia, label-changing: the precomputed results in the shape the DAS page's
    controls chart takes (plots.controls_bars)."""
    das, neuron = rows[rows.method == "das"], rows[rows.method == "neuron"]
    out = []
    if len(das):
        d = das.iloc[0]
        out.append(("DAS (learned rotation)", "alignment", d.iia, d.iia_label_changed))
    if len(neuron):
        n = neuron.iloc[0]
        out.append(("best neuron-wise subsets", "alignment", n.iia, n.iia_label_changed))
    if len(das):  # every control the table has a column for (older tables have fewer)
        out += [(c.label, "control", d[c.column], None) for c in CONTROLS
                if c.column in d.index and not pd.isna(d[c.column])]
        out.append(("no intervention", "baseline", d.no_intervention_baseline, None))
    return pd.DataFrame(out, columns=["name", "kind", "iia", "label-changing"])
