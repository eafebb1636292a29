"""The whole experiment for one config: train, task accuracy, DAS, neuron-wise search and
every control, with timings. `RunResult.summary()` is the JSON report."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
import torch

from explorer.core.config import RunConfig, validate
from explorer.methods.controls import full_layer_iia, permutation_iia, permutation_units, random_rotation_iia
from explorer.methods.das import DASResult, train_das, units_permutation
from explorer.core.iia import IIA
from explorer.core.models import MLP
from explorer.core.rng import generator
from explorer.methods.search import NeuronResult, neuron_search
from explorer.core.train import accuracy_table, heldout_examples, new_model, train_model
from explorer.core.pairs import PairSet, pair_set
from explorer.core.progress import Progress, labelled, scaled_progress


def das_start(model: MLP, cfg: RunConfig, pairs: PairSet,
              neuron: NeuronResult | None = None) -> torch.Tensor | None:
    """Restart 0's starting matrix for the config's `das_init` (None: all restarts random)."""
    d, init = pairs.test.base_h.shape[-1], cfg.das.das_init
    if init == "identity":
        return torch.eye(d)
    if init == "neuron":
        return units_permutation((neuron or run_neuron(model, cfg, pairs)).subsets, d)
    return None


def run_das(model: MLP, cfg: RunConfig, pairs: PairSet, stream: str = "das",
            progress: Progress | None = None, neuron: NeuronResult | None = None) -> DASResult:
    return train_das(model, pairs.train, pairs.val, pairs.test, cfg.das.k, cfg.das,
                     generator(cfg.seed, stream), progress,
                     first=das_start(model, cfg, pairs, neuron))


def run_neuron(model: MLP, cfg: RunConfig, pairs: PairSet) -> NeuronResult:
    return neuron_search(model, pairs.search, pairs.test, cfg.das.k, cfg.neuron.max_exhaustive)


def untrained_model(cfg: RunConfig) -> MLP:
    """The untrained-network control: same shape, its own init stream, never trained."""
    return new_model(cfg, "untrained-init").eval().requires_grad_(False)


def untrained_das(cfg: RunConfig, progress: Progress | None = None) -> IIA:
    """The same DAS on the untrained network: needs only the config, not the trained model."""
    untrained = untrained_model(cfg)
    return run_das(untrained, cfg, pair_set(untrained, cfg), "das-untrained", progress).test


def run_controls(model: MLP, cfg: RunConfig, pairs: PairSet, das: DASResult,
                 progress: Progress | None = None,
                 untrained: IIA | None = None) -> dict[str, IIA]:
    """Every control of a DAS result (see explorer.methods.controls), on the same test pairs;
    pass `untrained` when the untrained-network DAS is already done."""
    return {
        "untrained_das": untrained or untrained_das(cfg, labelled(progress,
                                                                  "untrained control")),
        "random_rotation": random_rotation_iia(model, pairs.test, das.var_mask,
                                               generator(cfg.seed, "random-rotation")),
        "closest_permutation": permutation_iia(model, pairs.test, das.var_mask, das.rotation),
        "full_layer": full_layer_iia(model, pairs.test),
    }


class _Timer:
    def __init__(self):
        self.timings: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str):
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)

    def call(self, name: str, fn, *args):
        """fn(*args), timed as phase `name` (also from another thread: its own key)."""
        with self.phase(name):
            return fn(*args)


@dataclass(frozen=True)
class Alignment:
    """Neuron-wise search, DAS and every control for one config, on the same test pairs."""

    pairs: PairSet
    neuron: NeuronResult
    das: DASResult
    controls: dict[str, IIA]
    timings: dict[str, float]


def align(model: MLP, cfg: RunConfig, progress: Progress | None = None,
          neuron: NeuronResult | None = None, untrained: IIA | None = None) -> Alignment:
    """The alignment half of the experiment; pass `neuron` to reuse a finished search.

    The neuron-wise search runs in a second thread beside DAS and the controls (torch
    releases the GIL inside its kernels, so on 2 cores they overlap). Every op is
    single-threaded and every random stream is passed in, so the numbers are the same as
    run one after the other. A DAS that starts at the neuron-wise answer waits for it."""
    timer = _Timer()
    with timer.phase("pairs"):
        pairs = pair_set(model, cfg)
    with ThreadPoolExecutor(max_workers=1) as pool:
        search = None if neuron is not None else pool.submit(timer.call, "neuron", run_neuron,
                                                             model, cfg, pairs)
        if search is not None and cfg.das.das_init == "neuron":
            neuron = search.result()
        with timer.phase("das"):
            das = run_das(model, cfg, pairs, progress=scaled_progress(progress, 0.0, 0.6),
                          neuron=neuron)
        with timer.phase("controls"):
            controls = run_controls(model, cfg, pairs, das, scaled_progress(progress, 0.6, 0.95),
                                    untrained)
        if neuron is None:
            neuron = search.result()
    if progress:
        progress(1.0, "alignment done")
    return Alignment(pairs, neuron, das, controls, timer.timings)


@dataclass
class RunResult:
    config: RunConfig
    model: MLP
    history: pd.DataFrame
    accuracy: pd.DataFrame
    das: DASResult
    neuron: NeuronResult
    controls: dict[str, IIA]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def task_accuracy(self) -> float:
        return float(self.accuracy.loc[self.accuracy.pattern == "all", "accuracy"].iloc[0])

    def summary(self) -> dict:
        das = self.das.test.as_dict()
        return {
            "config": self.config.to_flat(),
            "task_accuracy": self.task_accuracy,
            "accuracy_by_pattern": dict(zip(self.accuracy.pattern, self.accuracy.accuracy)),
            "das": {**das, "best_restart": self.das.best_restart,
                    "restarts": self.das.restarts.to_dict("records")},
            "neuron": {**self.neuron.test.as_dict(),
                       "neurons": [list(s) for s in self.neuron.subsets],
                       "exhaustive": self.neuron.exhaustive},
            "controls": {
                "untrained_das_iia": self.controls["untrained_das"].iia,
                "random_rotation_iia": self.controls["random_rotation"].iia,
                "closest_permutation_iia": self.controls["closest_permutation"].iia,
                "closest_permutation_units": permutation_units(self.das.rotation,
                                                               self.das.var_mask),
                "full_layer_iia": self.controls["full_layer"].iia,
                "no_intervention_baseline": self.das.test.baseline,
            },
            "timings": dict(self.timings),
        }


def run(cfg: RunConfig, progress: Progress | None = None) -> RunResult:
    validate(cfg)
    start = time.perf_counter()
    timer = _Timer()
    with ThreadPoolExecutor(max_workers=1) as pool:  # the untrained control beside training
        control = pool.submit(timer.call, "untrained_control", untrained_das, cfg)
        with timer.phase("train"):
            model, history = train_model(cfg, scaled_progress(progress, 0.0, 0.45))
        with timer.phase("evaluate"):
            accuracy = accuracy_table(model, heldout_examples(cfg))
        untrained = control.result()
    found = align(model, cfg, scaled_progress(progress, 0.45, 1.0), untrained=untrained)
    timer.timings.update(found.timings)
    if progress:
        progress(1.0, "done")
    timer.timings["total"] = round(time.perf_counter() - start, 3)  # wall: phases overlap
    return RunResult(cfg, model, history, accuracy, found.das, found.neuron, found.controls,
                     timer.timings)
