"""The shipped checkpoints and rotations of pretrained/ (results.csv: `explorer.store.precomputed`).

    catalog()            every shipped checkpoint, from its metadata (headers only, no weights)
    find(cfg)            the shipped checkpoint that is the model `cfg` describes, or None
    rotation_for(cfg)    the stored DAS rotation for this config (any shipped DAS point), or None

A shipped model is identified by its model fields (task, model, training, seed: what
training depends on: `core.identity.model_fields`); a rotation by its result's key
(`core.identity.point_key`: full config and method). Everything here tolerates a missing or partial folder: lookups return None / ().
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from explorer.store import checkpoints
from explorer.core.config import RunConfig, n_variables
from explorer.core.identity import model_fields, point_key
from explorer.core.interventions import block_mask
from explorer.core.models import MLP
from explorer.store.precomputed import FOLDER, mtime


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


def catalog(folder: Path = FOLDER) -> tuple[ShippedModel, ...]:
    """Every readable checkpoint in folder/models, ordered by activation, width, layers, seed.
    A file whose metadata does not validate is left out (the tests check none is)."""
    return _catalog(Path(folder), mtime(Path(folder) / "models"))


@lru_cache(maxsize=4)
def _catalog(folder: Path, stamp: float) -> tuple[ShippedModel, ...]:
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


@lru_cache(maxsize=4)
def _rotation_names(path: Path, stamp: float) -> frozenset[str]:
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
    folder has no rotation for it (every DAS point of the shipped table has one)."""
    from safetensors import safe_open

    key = point_key(cfg, "das")
    try:
        path = Path(folder) / "rotations.safetensors"
        if key not in _rotation_names(path, mtime(path)):
            return None
        with safe_open(str(path), framework="pt") as f:
            rotation = f.get_tensor(key).float()
    except Exception:  # noqa: BLE001 - a damaged file means no stored rotation
        return None
    return rotation, block_mask(cfg.das.k, n_variables(cfg.das.hypothesis), rotation.shape[0])
