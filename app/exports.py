"""Downloadable artefacts: results JSON/CSV, the learned rotation, the model checkpoint.
Serialisation only; the numbers come from the engine's result objects."""

from __future__ import annotations

import io
import json

import pandas as pd
from safetensors.torch import save as st_save

from app.stores import AlignmentRun, TrainedModel
from explorer.store import checkpoints
from explorer.core.config import RunConfig
from explorer.methods.experiment import RunResult


def results(cfg: RunConfig, entry: TrainedModel, run: AlignmentRun | None) -> dict:
    """The engine's JSON report (as `python -m explorer run --json` writes it) when DAS has
    run; otherwise the config and task accuracy."""
    if run is not None:
        history = entry.history if entry.history is not None else pd.DataFrame()
        summary = RunResult(cfg, entry.model, history, entry.accuracy, run.das, run.neuron,
                            run.controls, {"alignment": run.seconds}).summary()
    else:
        summary = {"config": cfg.to_flat(), "task_accuracy": entry.task_accuracy,
                   "accuracy_by_pattern": dict(zip(entry.accuracy.pattern,
                                                   entry.accuracy.accuracy))}
    return {**summary, "model_source": entry.source}


def results_json(report: dict) -> str:
    return json.dumps(report, indent=2, default=str)


def results_csv(report: dict) -> str:
    """The report flattened to long form: one row per (key, value)."""
    flat = pd.json_normalize(report, sep=".").iloc[0]
    frame = pd.DataFrame({"key": flat.index, "value": [json.dumps(v, default=str)
                                                       if isinstance(v, (list, dict)) else v
                                                       for v in flat.values]})
    return frame.to_csv(index=False)


def rotation_csv(run: AlignmentRun) -> str:
    """R (d, d): row = unit, column = rotated coordinate (r = h @ R)."""
    frame = pd.DataFrame(run.das.map.numpy())
    frame.index.name = "unit"
    buffer = io.StringIO()
    frame.to_csv(buffer)
    return buffer.getvalue()


def rotation_safetensors(cfg: RunConfig, run: AlignmentRun) -> bytes:
    tensors = {"rotation": run.das.map.contiguous(), "inverse": run.das.inverse.contiguous(),
               "var_mask": run.das.var_mask.contiguous()}
    meta = {"config": json.dumps(cfg.to_flat(), sort_keys=True),
            "test_iia": json.dumps(run.das.test.as_dict())}
    return st_save(tensors, metadata=meta)


def checkpoint(cfg: RunConfig, entry: TrainedModel) -> bytes:
    metrics = {"task_accuracy": entry.task_accuracy,
               "accuracy_by_pattern": dict(zip(entry.accuracy.pattern, entry.accuracy.accuracy))}
    return checkpoints.to_bytes(entry.model, entry.config, metrics,
                                extra={"source": entry.source})
