"""Checkpoints: safetensors weights with JSON metadata in the file's header. Nothing is ever
unpickled. Loading checks, before any tensor is read: the header's structure, the schema
version (the integer 1), a config that carries every field defining the model (task, model,
training, seed) with values of exactly the right JSON type and no unknown field, that the
config validates (ranges and the memory budget), and every tensor's name, dtype (F32) and
shape against the model the config describes.

`from_bytes` raises only CheckpointError, whatever the bytes; its message names the field
or the tensor at fault."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from explorer.core.config import (ConfigError, RunConfig, echo, flat_field_types, upgrade,
                                  validate)
from explorer.core.recipes import recipe_for, with_recipe_version
from explorer.core.identity import MODEL_FIELDS
from explorer.core.models import MLP

SCHEMA_VERSION = 2  # 1: the same, with the site's old name (`layer`) in the config
SUPPORTED = (1, 2)
MAX_BYTES = 16 * 1024 * 1024  # far above any model the config allows (128 x 128 x 4 floats)
DTYPE = "F32"
JSON_TYPES = {int: (int,), float: (int, float), str: (str,)}  # exact: no bool for numbers


class CheckpointError(ValueError):
    """A file that is not a valid explorer checkpoint; the message says why."""


def to_bytes(model: MLP, cfg: RunConfig, metrics: dict[str, Any] | None = None,
             extra: dict[str, Any] | None = None) -> bytes:
    meta = {"schema_version": SCHEMA_VERSION, "config": cfg.to_flat(),
            "recipe": recipe_for(cfg).version, "metrics": metrics or {}, **(extra or {})}
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    return st_save(tensors, metadata={"explorer": json.dumps(meta, sort_keys=True)})


def save(path: str | Path, model: MLP, cfg: RunConfig, metrics: dict[str, Any] | None = None,
         extra: dict[str, Any] | None = None) -> None:
    Path(path).write_bytes(to_bytes(model, cfg, metrics, extra))


def _no_constant(name: str):
    raise CheckpointError(f"metadata holds {name}, which is not JSON")


def _json(text: str | bytes, what: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:  # bad UTF-8, bad JSON, absurd nesting
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(f"{what} is not readable JSON ({type(err).__name__})") from None


def _header(data: bytes) -> dict:
    if len(data) < 8:
        raise CheckpointError("not a safetensors file: too short")
    size = int.from_bytes(data[:8], "little")
    if size <= 0 or 8 + size > len(data):
        raise CheckpointError("not a safetensors file, or truncated: header size out of range")
    header = _json(data[8:8 + size], "not a safetensors file: the header")
    if not isinstance(header, dict):
        raise CheckpointError("not a safetensors file: the header is not a JSON object")
    return header


def read_metadata(data: bytes) -> dict:
    """The checkpoint's metadata, validated (schema version, config, metrics)."""
    block = _header(data).get("__metadata__")
    if not isinstance(block, dict) or not isinstance(block.get("explorer"), str):
        raise CheckpointError("safetensors file without explorer metadata")
    meta = _json(block["explorer"], "the explorer metadata")
    if not isinstance(meta, dict):
        raise CheckpointError("the explorer metadata is not a JSON object")
    version = meta.get("schema_version")
    if type(version) is not int or version not in SUPPORTED:
        raise CheckpointError(f"schema_version {echo(version)} is not supported (expected "
                              f"the integer {' or '.join(map(str, SUPPORTED))})")
    config_from(meta)
    _check_metrics(meta.get("metrics", {}))
    return meta


def config_from(meta: dict) -> RunConfig:
    """The metadata's config, exactly: every model field present, no unknown field, each
    value of its field's JSON type, and valid (ranges, memory budget)."""
    raw = meta.get("config")
    if not isinstance(raw, dict):
        raise CheckpointError("the metadata has no config object")
    try:
        raw = upgrade(raw)  # older names (schema 1) are their current ones
    except ConfigError as err:
        raise CheckpointError(f"invalid config in metadata: {err}") from None
    types = flat_field_types()
    missing = sorted(set(MODEL_FIELDS) - set(raw))
    if missing:
        raise CheckpointError(f"the config lacks fields that define the model: "
                              f"{', '.join(missing)}")
    unknown = sorted(set(raw) - set(types))
    if unknown:
        raise CheckpointError(f"the config has unknown fields: "
                              f"{', '.join(echo(name) for name in unknown[:5])}")
    for name, value in raw.items():
        if type(value) not in JSON_TYPES[types[name]]:
            raise CheckpointError(f"config field {name} must be a JSON "
                                  f"{'number' if types[name] is float else types[name].__name__}"
                                  f" (got {echo(value)})")
    recipe = meta.get("recipe", 1)  # files written before recipes had versions: version 1
    if type(recipe) is not int:
        raise CheckpointError(f"recipe must be an integer version (got {echo(recipe)})")
    try:
        return with_recipe_version(validate(RunConfig.from_flat(raw)), recipe)
    except ConfigError as err:
        raise CheckpointError(f"invalid config in metadata: {err}") from None


def _check_metrics(metrics: Any) -> None:
    if not isinstance(metrics, dict):
        raise CheckpointError("metrics must be a JSON object")
    accuracy = metrics.get("task_accuracy", 0.0)
    if type(accuracy) not in (int, float) or not 0 <= accuracy <= 1:
        raise CheckpointError(f"metrics.task_accuracy must be a number in [0, 1] "
                              f"(got {echo(accuracy)})")


def _check_tensors(header: dict, model: MLP) -> None:
    """Names, dtypes and shapes from the header, against the config's model."""
    expected = {k: list(v.shape) for k, v in model.state_dict().items()}
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    missing, extra = sorted(set(expected) - set(entries)), sorted(set(entries) - set(expected))
    if missing or extra:
        raise CheckpointError(f"tensors do not match the config's model: missing "
                              f"{', '.join(missing) or 'none'}; unexpected "
                              f"{', '.join(echo(n) for n in extra[:5]) or 'none'}")
    for name, shape in expected.items():
        entry = entries[name]
        if not isinstance(entry, dict):
            raise CheckpointError(f"tensor {name}: its header entry is not an object")
        if entry.get("dtype") != DTYPE:
            raise CheckpointError(f"tensor {name} has dtype {echo(entry.get('dtype'))}; "
                                  f"expected {DTYPE}")
        if entry.get("shape") != shape:
            raise CheckpointError(f"tensors do not match the config's model: {name} has shape "
                                  f"{echo(entry.get('shape'))}, expected {shape}")


def from_bytes(data: bytes) -> tuple[MLP, RunConfig, dict]:
    """Load a checkpoint: (model, config, metadata). Raises CheckpointError when invalid."""
    if not isinstance(data, (bytes, bytearray)):
        raise CheckpointError(f"expected the file's bytes, got {type(data).__name__}")
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"file is {len(data)} bytes; the limit is {MAX_BYTES}")
    data = bytes(data)
    meta = read_metadata(data)
    cfg = config_from(meta)
    model = MLP(cfg.input_dim, cfg.model)
    _check_tensors(_header(data), model)
    try:
        tensors = st_load(data)
    except Exception as err:  # noqa: BLE001 - the parser reports corruption many ways
        raise CheckpointError(f"corrupted safetensors data: {echo(str(err))}") from None
    if any(t.dtype != torch.float32 for t in tensors.values()):  # the parser agrees
        raise CheckpointError("tensor data is not float32")
    if any(not torch.isfinite(t).all() for t in tensors.values()):
        raise CheckpointError("weights contain NaN or infinite values")
    model.load_state_dict(tensors)
    return model.eval().requires_grad_(False), cfg, meta


def load(path: str | Path) -> tuple[MLP, RunConfig, dict]:
    """A checkpoint file (OSError when it cannot be read, else as `from_bytes`)."""
    return from_bytes(Path(path).read_bytes())
