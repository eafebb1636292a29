"""Checkpoints: safetensors weights with JSON metadata in the file's header. Nothing is ever
unpickled: loading parses the safetensors header, validates the metadata (schema version,
config) and every tensor's name and shape against the model the config describes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from explorer.core.config import ConfigError, RunConfig, validate
from explorer.core.models import MLP

SCHEMA_VERSION = 1
MAX_BYTES = 16 * 1024 * 1024  # far above any model the config allows (128 x 128 x 4 floats)


class CheckpointError(ValueError):
    """A file that is not a valid explorer checkpoint; the message says why."""


def to_bytes(model: MLP, cfg: RunConfig, metrics: dict[str, Any] | None = None,
             extra: dict[str, Any] | None = None) -> bytes:
    meta = {"schema_version": SCHEMA_VERSION, "config": cfg.to_flat(),
            "metrics": metrics or {}, **(extra or {})}
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    return st_save(tensors, metadata={"explorer": json.dumps(meta, sort_keys=True)})


def save(path: str | Path, model: MLP, cfg: RunConfig, metrics: dict[str, Any] | None = None,
         extra: dict[str, Any] | None = None) -> None:
    Path(path).write_bytes(to_bytes(model, cfg, metrics, extra))


def _header(data: bytes) -> dict:
    if len(data) < 8:
        raise CheckpointError("not a safetensors file: too short")
    size = int.from_bytes(data[:8], "little")
    if size <= 0 or 8 + size > len(data):
        raise CheckpointError("not a safetensors file, or truncated: header size out of range")
    try:
        return json.loads(data[8:8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError("not a safetensors file: header is not JSON") from None


def read_metadata(data: bytes) -> dict:
    """The checkpoint's metadata, validated (schema version, a valid config)."""
    header = _header(data)
    try:
        meta = json.loads(header.get("__metadata__", {}).get("explorer", ""))
    except (AttributeError, json.JSONDecodeError):
        raise CheckpointError("safetensors file without explorer metadata") from None
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise CheckpointError(f"schema_version {meta.get('schema_version')!r} is not supported "
                              f"(expected {SCHEMA_VERSION})")
    try:
        validate(RunConfig.from_flat(meta.get("config", {})))
    except (ConfigError, TypeError) as err:
        raise CheckpointError(f"invalid config in metadata: {err}") from None
    return meta


def from_bytes(data: bytes) -> tuple[MLP, RunConfig, dict]:
    """Load a checkpoint: (model, config, metadata). Raises CheckpointError when invalid."""
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"file is {len(data)} bytes; the limit is {MAX_BYTES}")
    meta = read_metadata(data)
    cfg = RunConfig.from_flat(meta["config"])
    try:
        tensors = st_load(data)
    except (SafetensorError, Exception) as err:  # the parser reports corruption many ways
        raise CheckpointError(f"corrupted safetensors data: {err}") from None
    model = MLP(cfg.input_dim, cfg.model)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if got != expected:
        wrong = sorted(set(got.items()) ^ set(expected.items()))[0]
        raise CheckpointError(f"tensors do not match the config's model (first difference: "
                              f"{wrong[0]} {wrong[1]}); expected {expected}")
    if any(not torch.isfinite(t).all() for t in tensors.values()):
        raise CheckpointError("weights contain NaN or infinite values")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval().requires_grad_(False), cfg, meta


def load(path: str | Path) -> tuple[MLP, RunConfig, dict]:
    return from_bytes(Path(path).read_bytes())
