"""The shipped pretrained/ folder as data the app can look things up in.

    catalog()            every shipped checkpoint, from its metadata (headers only, no weights)
    find(cfg)            the shipped checkpoint that is the model `cfg` describes, or None
    results_for(cfg)     the precomputed rows of results.csv for exactly this config
    seed_spread(cfg)     the same config's rows at every shipped seed
    rotation_for(cfg)    the stored DAS rotation for this config (default k only), or None

A shipped model is identified by its model fields (task, model, training, seed: what
training depends on); a result row by its full config and method (`sweep.point_key`).
Everything here tolerates a missing or partial folder: lookups then return None / empty.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import torch

from . import checkpoints
from .config import RunConfig, n_variables
from .interventions import block_mask
from .models import MLP
from .sweep import point_key

FOLDER = Path(__file__).resolve().parents[1] / "pretrained"
CONTROL_COLUMNS = {"untrained_das_iia": "untrained network (same DAS)",
                   "random_rotation_iia": "random rotation",
                   "closest_permutation_iia": "closest signed permutation",
                   "full_layer_iia": "full-layer patch"}


def model_fields(cfg: RunConfig) -> dict:
    """The fields a trained model depends on (task, model, training, seed)."""
    return {**asdict(cfg.task), **asdict(cfg.model), **asdict(cfg.train), "seed": cfg.seed}


@dataclass(frozen=True)
class ShippedModel:
    path: Path
    config: RunConfig
    task_accuracy: float | None  # as recorded in the checkpoint's metadata

    @property
    def label(self) -> str:
        m = self.config.model
        return f"{m.activation} · width {m.width} · {m.layers} layers · seed {self.config.seed}"

    def load(self) -> tuple[MLP, RunConfig, dict]:
        """The weights, validated against the config (see `checkpoints.from_bytes`)."""
        return checkpoints.load(self.path)


def read_header(path: Path) -> dict:
    """A checkpoint's metadata, reading only the file's JSON header."""
    with open(path, "rb") as f:
        head = f.read(8)
        size = int.from_bytes(head, "little") if len(head) == 8 else 0
        body = f.read(size) if 0 < size <= checkpoints.MAX_BYTES else b""
    return checkpoints.read_metadata(head + body)


def _mtime(path: Path) -> float:
    """A cache key that changes when a file or folder changes (0 when it is absent)."""
    return path.stat().st_mtime if path.exists() else 0.0


def catalog(folder: Path = FOLDER) -> tuple[ShippedModel, ...]:
    """Every readable checkpoint in folder/models, ordered by activation, width, layers, seed.
    A file whose metadata does not validate is left out (the tests check none is)."""
    return _catalog(Path(folder), _mtime(Path(folder) / "models"))


@lru_cache(maxsize=4)
def _catalog(folder: Path, mtime: float) -> tuple[ShippedModel, ...]:
    found = []
    for path in sorted((Path(folder) / "models").glob("*.safetensors")):
        try:
            meta = read_header(path)
        except (OSError, checkpoints.CheckpointError):
            continue
        cfg = RunConfig.from_flat(meta["config"])
        found.append(ShippedModel(path, cfg, meta.get("metrics", {}).get("task_accuracy")))
    return tuple(sorted(found, key=lambda s: (s.config.model.activation, s.config.model.width,
                                              s.config.model.layers, s.config.seed)))


def find(cfg: RunConfig, folder: Path = FOLDER) -> ShippedModel | None:
    """The shipped checkpoint trained with exactly cfg's model fields."""
    wanted = model_fields(cfg)
    return next((s for s in catalog(folder) if model_fields(s.config) == wanted), None)


def results_table(folder: Path = FOLDER) -> pd.DataFrame:
    """results.csv indexed by key (empty when the folder has none)."""
    path = Path(folder) / "results.csv"
    return _results_table(path, _mtime(path))


@lru_cache(maxsize=4)
def _results_table(path: Path, mtime: float) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame(columns=["key", "method", "seed"]).set_index("key")
    return pd.read_csv(path).set_index("key", drop=False)


def _rows(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return table.loc[[k for k in keys if k in table.index]].reset_index(drop=True)


def results_for(cfg: RunConfig, folder: Path = FOLDER) -> pd.DataFrame:
    """The precomputed rows (method das, then neuron) for exactly this config."""
    flat = cfg.to_flat()
    return _rows(results_table(folder), [point_key(flat, m) for m in ("das", "neuron")])


def seed_spread(cfg: RunConfig, folder: Path = FOLDER) -> pd.DataFrame:
    """Rows for this config at every seed the table has (das and neuron), by seed."""
    table = results_table(folder)
    seeds = sorted(set(table.seed.astype(int))) if len(table) else []
    keys = [point_key(cfg.with_values(seed=s).to_flat(), m) for s in seeds
            for m in ("das", "neuron")]
    return _rows(table, keys)


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
    das = rows[rows.method == "das"]
    neuron = rows[rows.method == "neuron"]
    out = []
    if len(das):
        d = das.iloc[0]
        out.append(("DAS (learned rotation)", "alignment", d.iia, d.iia_label_changed))
    if len(neuron):
        n = neuron.iloc[0]
        out.append(("best neuron-wise subsets", "alignment", n.iia, n.iia_label_changed))
    if len(das):
        out += [(name, "control", d[col], None) for col, name in CONTROL_COLUMNS.items()]
        out.append(("no intervention", "baseline", d.no_intervention_baseline, None))
    return pd.DataFrame(out, columns=["name", "kind", "iia", "label-changing"])


@lru_cache(maxsize=4)
def _rotation_names(path: Path, mtime: float) -> frozenset[str]:
    """The keys stored in rotations.safetensors (empty when absent or unreadable)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return frozenset(f.keys())
    except Exception:  # noqa: BLE001 - missing or damaged file: no stored rotations
        return frozenset()


def rotation_for(cfg: RunConfig, folder: Path = FOLDER) -> tuple[torch.Tensor,
                                                                 torch.Tensor] | None:
    """(R (d, d), var_mask (V, d)) of the precomputed DAS result for cfg, or None when the
    folder has no rotation for it (only the default k is stored)."""
    from safetensors import safe_open

    key = point_key(cfg.to_flat(), "das")
    try:
        path = Path(folder) / "rotations.safetensors"
        if key not in _rotation_names(path, _mtime(path)):
            return None
        with safe_open(str(path), framework="pt") as f:
            rotation = f.get_tensor(key).float()
    except Exception:  # noqa: BLE001 - a damaged file means no stored rotation
        return None
    return rotation, block_mask(cfg.das.k, n_variables(cfg.das.hypothesis), rotation.shape[0])
