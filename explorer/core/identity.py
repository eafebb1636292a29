"""The one identity of a model and of a measurement.

    model_fields(cfg)        what a trained model depends on: task, model, training, seed
    model_key(cfg)           a short stable id of those fields (checkpoint file names, caches)
    point_key(cfg, method)   a short stable id of one measurement (its full config and method)

Keys hash canonical JSON of named fields, never a dataclass `repr`, and carry the key schema
version. A field added after `KEY_SCHEMA` enters a key only when it differs from its
default, so adding a setting renames no checkpoint and empties no precomputed lookup.
`eval_size` (how many held-out examples score the model) is not part of a model's identity.
A config that leaves training to its activation's recipe (train_steps or train_lr 0) has
the recipe's version in its keys once that recipe has changed (`recipes.Recipe.version` > 1),
so keys name what trains, not only the fields that were typed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from explorer.core.config import RunConfig
from explorer.core.recipes import recipe_for

KEY_SCHEMA = 2  # fields of this schema always enter keys
MODEL_FIELDS = ("entity_dim", "distribution", "vocab_size", "activation", "width", "layers",
                "train_steps", "train_lr", "train_batch_size", "seed")
# field -> schema version that added it (enters keys only when non-default)
ADDED: dict[str, int] = {"das_patience": 3, "map_width": 4}


def model_fields(cfg: RunConfig) -> dict[str, Any]:
    """The fields a trained model depends on, by flat name."""
    flat = cfg.to_flat()
    return {name: flat[name] for name in MODEL_FIELDS}


def _keyed(fields: dict[str, Any], cfg: RunConfig) -> dict[str, Any]:
    defaults = RunConfig().to_flat()
    keyed = {k: v for k, v in fields.items() if k not in ADDED or v != defaults.get(k)}
    version = recipe_for(cfg).version
    return {**keyed, "recipe": version} if version > 1 else keyed


def _digest(payload: dict[str, Any], size: int) -> str:
    text = json.dumps({"schema": KEY_SCHEMA, **payload}, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def model_key(cfg: RunConfig) -> str:
    """Configs with equal keys train the same model."""
    return _digest(_keyed(model_fields(cfg), cfg), 8)


def point_key(cfg: RunConfig, method: str) -> str:
    """A stable id of one measurement: the full config and the method."""
    return _digest({**_keyed(cfg.to_flat(), cfg), "method": method}, 10)


def model_file_name(cfg: RunConfig) -> str:
    """A readable, unique checkpoint file name for the model cfg describes."""
    m = cfg.model
    return f"{m.activation}-w{m.width}-l{m.layers}-s{cfg.seed}-{model_key(cfg)}.safetensors"
