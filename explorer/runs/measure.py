"""What one sweep point measures: a method applied to one trained model at one config.

Methods: `das` (with every control, each in its `core.vocabulary.CONTROLS` column, and the
search's converged / steps_used), `neuron` (neuron-wise search), `probe` is left to
explorer.analysis.geometry. Each returns a flat dict of numbers for the long-form table.
"""

from __future__ import annotations

from pathlib import Path

import torch

from explorer.store import checkpoints
from explorer.core.config import RunConfig
from explorer.core.identity import model_file_name, model_key, point_key
from explorer.core.iia import IIA
from explorer.core.models import MLP
from explorer.core.pairs import pair_set
from explorer.methods.steps import run_controls, run_das, run_neuron
from explorer.methods.search import NeuronResult
from explorer.core.train import heldout_examples, task_accuracy, train_model

METHODS = ("das", "neuron")


class ModelCache:
    """Trained models by config: in memory, and as checkpoints in a folder shared by workers."""

    def __init__(self, folder: Path | None = None, extra: dict | None = None):
        self.folder, self.models, self.extra = folder, {}, extra or {}
        self.searches: dict[str, NeuronResult] = {}  # by point key: DAS's start reuses them

    def neuron(self, model: MLP, cfg: RunConfig, pairs) -> NeuronResult:
        """The neuron-wise search for cfg, computed once (the das and neuron points share it)."""
        key = point_key(cfg, "neuron")
        if key not in self.searches:
            self.searches[key] = run_neuron(model, cfg, pairs)
        return self.searches[key]

    def path(self, cfg: RunConfig) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / model_file_name(cfg)

    def get(self, cfg: RunConfig) -> tuple[MLP, float]:
        path = self.path(cfg)
        key = model_key(cfg)
        if key not in self.models:
            self.models[key] = self._load_or_train(cfg, path)
        return self.models[key]

    def _load_or_train(self, cfg: RunConfig, path: Path | None) -> tuple[MLP, float]:
        if path is not None and path.exists():
            model, _, meta = checkpoints.load(path)
            return model, meta["metrics"]["task_accuracy"]
        model, _ = train_model(cfg)
        accuracy = task_accuracy(model, heldout_examples(cfg))
        if path is not None:  # write then rename: concurrent workers never see half a file
            tmp = path.with_suffix(f".tmp{torch.randint(10**9, ()).item()}")
            checkpoints.save(tmp, model, cfg, {"task_accuracy": accuracy}, self.extra)
            tmp.replace(path)
        return model, accuracy


def iia_columns(prefix: str, iia: IIA) -> dict[str, float]:
    cols = {f"{prefix}iia": iia.iia, f"{prefix}iia_label_changed": iia.changed}
    cols.update({f"{prefix}iia_{name}": value for name, value in iia.by_type.items()})
    return cols


def measure(cache: ModelCache, cfg: RunConfig,
            method: str) -> tuple[dict[str, float | str], torch.Tensor | None]:
    """One point's row, and the learned rotation for DAS (None for other methods)."""
    model, accuracy = cache.get(cfg)
    pairs = pair_set(model, cfg)
    row: dict[str, float | str] = {"task_accuracy": accuracy,
                                   "no_intervention_baseline": pairs.test.base_pred.eq(
                                       pairs.test.counterfactual_label).float().mean().item()}
    if method == "neuron":
        result = cache.neuron(model, cfg, pairs)
        row.update(iia_columns("", result.test))
        row["neurons"] = ";".join(" ".join(map(str, s)) for s in result.subsets)
        return row, None
    neuron = cache.neuron(model, cfg, pairs) if cfg.das.das_init == "neuron" else None
    das = run_das(model, cfg, pairs, neuron=neuron)
    controls = run_controls(model, cfg, pairs, das)
    row.update(iia_columns("", das.test))
    row.update(controls.columns())  # every control by its vocabulary.CONTROLS column
    row["restart_iia_min"] = float(das.restarts.test_iia.min())
    row["restart_iia_max"] = float(das.restarts.test_iia.max())
    row["converged"], row["steps_used"] = das.converged, das.steps_used
    return row, das.map if isinstance(das.map, torch.Tensor) else None  # revnet: no matrix
