"""The whole experiment for one config: train, task accuracy, neuron-wise search, DAS and
every control, with timings.

    align(model, cfg) -> AlignmentResults   the search, DAS and controls on one pair set
    run(cfg) -> RunResult                   training first, then align; `summary()` is the
                                            JSON report (`methods.report`)
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import pandas as pd
import torch

from explorer.core.config import RunConfig, validate
from explorer.core.models import MLP
from explorer.core.pairs import PairSet, pair_set
from explorer.core.progress import Progress, labelled, scaled_progress, side_by_side
from explorer.core.rng import generator
from explorer.core.task import sample_examples
from explorer.core.train import (accuracy_table, entities_for, heldout_examples, new_model,
                                 task_accuracy, train_model)
from explorer.methods import report
from explorer.methods.controls import (Controls, NetworkControl, cross_variable_iia,
                                       fit_readout, full_layer_iia, full_layer_source_label_iia,
                                       output_spread, permutation_iia, random_rotation_iias)
from explorer.methods.das import DASResult, train_das, units_permutation
from explorer.methods.fit import OnLog
from explorer.methods.revnet import as_das_result, train_revnet
from explorer.methods.search import NeuronResult, neuron_search

READOUT_EXAMPLES = 8192  # training examples the random-features readout is fitted on


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
            progress: Progress | None = None, neuron: NeuronResult | None = None,
            on_log: OnLog | None = None) -> DASResult:
    """DAS with the config's map family; `map = revnet` gives a DASResult whose map is a
    `revnet.CouplingMap` (same generator stream, same restart-0 start). `on_log` sees
    every validation round (`fit.fit`; `das.publisher` makes one for a live view)."""
    if cfg.das.map == "revnet":
        return as_das_result(train_revnet(
            model, pairs.train, pairs.val, pairs.test, cfg.das.k, cfg.das,
            generator(cfg.seed, stream), first=das_start(model, cfg, pairs, neuron),
            first_name=cfg.das.das_init, progress=progress, on_log=on_log))
    return train_das(model, pairs.train, pairs.val, pairs.test, cfg.das.k, cfg.das,
                     generator(cfg.seed, stream), progress,
                     first=das_start(model, cfg, pairs, neuron), first_name=cfg.das.das_init,
                     on_log=on_log)


def _reported(progress: Progress | None, fn, *args, **kwargs):
    """fn(*args, **kwargs) for a phase with no steps of its own: it reports its start and end."""
    if progress:
        progress(0.0, "started")
    out = fn(*args, **kwargs)
    if progress:
        progress(1.0, "done")
    return out


def run_neuron(model: MLP, cfg: RunConfig, pairs: PairSet, *, map_fn=map) -> NeuronResult:
    return neuron_search(model, pairs.search, pairs.test, cfg.das.k, cfg.neuron.max_exhaustive,
                         map_fn=map_fn)


def untrained_model(cfg: RunConfig) -> MLP:
    """The untrained-network control: same shape, its own init stream, never trained."""
    return new_model(cfg, "untrained-init").eval().requires_grad_(False)


def random_features_model(cfg: RunConfig) -> MLP:
    """The random-features control: the untrained network's very hidden layers, with only
    the readout fitted to the task (on READOUT_EXAMPLES training examples of its own stream)."""
    examples = sample_examples(READOUT_EXAMPLES, entities_for(cfg), "train",
                               generator(cfg.seed, "random-features"))
    return fit_readout(untrained_model(cfg), examples.x, examples.y)


def control_network(net: MLP, cfg: RunConfig, stream: str,
                    progress: Progress | None = None) -> NetworkControl:
    """The same DAS (and, for its start, the same neuron-wise search) on a control network,
    with that network's output spread and task accuracy."""
    das = run_das(net, cfg, pair_set(net, cfg), stream, progress)
    examples = heldout_examples(cfg)
    return NetworkControl(das.test, output_spread(net, examples.x), task_accuracy(net, examples))


def network_controls(cfg: RunConfig,
                     progress: Progress | None = None) -> tuple[NetworkControl, NetworkControl]:
    """The untrained and random-features controls: they need only the config, so they can
    run beside training."""
    return (control_network(untrained_model(cfg), cfg, "das-untrained",
                            labelled(scaled_progress(progress, 0.0, 0.5), "untrained control")),
            control_network(random_features_model(cfg), cfg, "das-random-features",
                            labelled(scaled_progress(progress, 0.5, 1.0),
                                     "random-features control")))


def run_controls(model: MLP, cfg: RunConfig, pairs: PairSet, das: DASResult,
                 progress: Progress | None = None,
                 networks: tuple[NetworkControl, NetworkControl] | None = None) -> Controls:
    """Every control of a DAS result (see explorer.methods.controls), on the same test pairs;
    pass `networks` when the untrained and random-features controls are already done."""
    untrained, features = networks or network_controls(cfg, progress)
    test = pairs.test
    return Controls(
        untrained=untrained, random_features=features,
        random_rotation=random_rotation_iias(model, test, das.var_mask,
                                             generator(cfg.seed, "random-rotation")),
        closest_permutation=permutation_iia(model, test, das.var_mask, das.map),
        cross_variable=cross_variable_iia(model, test, das.var_mask, das.map, das.inverse),
        full_layer=full_layer_iia(model, test),
        full_layer_source_label=full_layer_source_label_iia(model, test))


def beside(pool: ThreadPoolExecutor):
    """A map that runs its first call in the calling thread, the others in the pool."""
    def map_fn(fn, items):
        first, *rest = list(items)
        futures = [pool.submit(fn, item) for item in rest]
        return [fn(first), *(f.result() for f in futures)]
    return map_fn


class Timer:
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
class AlignmentResults:
    """Neuron-wise search, DAS and every control for one config, on the same test pairs."""

    pairs: PairSet
    neuron: NeuronResult
    das: DASResult
    controls: Controls
    timings: dict[str, float]


def align(model: MLP, cfg: RunConfig, progress: Progress | None = None,
          neuron: NeuronResult | None = None,
          networks: tuple[NetworkControl, NetworkControl] | Future | None = None,
          on_log: OnLog | None = None) -> AlignmentResults:
    """The alignment half of the experiment; pass `neuron` to reuse a finished search and
    `networks` for the untrained and random-features controls, finished or still running
    (a Future: they are waited for only where the controls need them). `on_log` sees the
    trained network's DAS (not the control networks') at every validation round.

    The control networks run in a worker thread beside the rest (torch releases the GIL
    inside its kernels, so on 2 cores they overlap). A DAS that starts at the neuron-wise
    answer (the default) waits for it, searched with its variables split over the workers;
    otherwise the search runs beside DAS. Every op is single-threaded and every random
    stream is passed in, so the numbers are the same as run one after the other."""
    timer = Timer()
    with timer.phase("pairs"):
        pairs = pair_set(model, cfg)
    phases = {"neuron-wise search": 0.15, "DAS": 0.7,
              **({"control networks": 0.15} if networks is None else {})}
    bar = side_by_side(progress, phases, 0.0, 0.95)
    searching = partial(_reported, bar["neuron-wise search"], run_neuron)
    with ThreadPoolExecutor(max_workers=2) as pool:
        nets = None if networks is not None else pool.submit(
            timer.call, "control_networks", network_controls, cfg, bar["control networks"])
        search = None
        if neuron is None and cfg.das.das_init == "neuron":  # DAS starts there: wait for it,
            neuron = timer.call("neuron", partial(searching, map_fn=beside(pool)), model,
                                cfg, pairs)
        elif neuron is None:  # ... or search beside DAS
            search = pool.submit(timer.call, "neuron", searching, model, cfg, pairs)
        with timer.phase("das"):
            das = run_das(model, cfg, pairs, progress=bar["DAS"], neuron=neuron, on_log=on_log)
        with timer.phase("controls"):
            networks = (networks.result() if isinstance(networks, Future) else networks) \
                or nets.result()  # its last report comes before the next
            if progress:
                progress(0.95, "controls")
            controls = run_controls(model, cfg, pairs, das, networks=networks)
        if neuron is None:
            neuron = search.result()
    if progress:
        progress(1.0, "alignment done")
    return AlignmentResults(pairs, neuron, das, controls, timer.timings)


@dataclass
class RunResult:
    config: RunConfig
    model: MLP
    history: pd.DataFrame
    accuracy: pd.DataFrame
    das: DASResult
    neuron: NeuronResult
    controls: Controls
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def task_accuracy(self) -> float:
        return float(self.accuracy.loc[self.accuracy.pattern == "all", "accuracy"].iloc[0])

    def notes(self) -> list[str]:
        return report.notes(self.config, self.das, self.neuron, self.controls,
                            self.task_accuracy)

    def summary(self) -> dict:
        return report.summary(self.config, self.task_accuracy,
                              dict(zip(self.accuracy.pattern, self.accuracy.accuracy)),
                              self.das, self.neuron, self.controls, self.timings)


def run(cfg: RunConfig, progress: Progress | None = None) -> RunResult:
    validate(cfg)
    start = time.perf_counter()
    timer = Timer()
    # in time on 2 cores: training ~2 s, beside it the control networks ~5 s, the alignment
    # (search, DAS, controls) ~3 s after training, while the control networks finish
    bar = side_by_side(progress, {"training": 0.25, "control networks": 0.4, "alignment": 0.35},
                       unnamed=("alignment",))
    # the control networks beside training, and beside the search and DAS that follow it
    with ThreadPoolExecutor(max_workers=1) as pool:
        control = pool.submit(timer.call, "control_networks", network_controls, cfg,
                              bar["control networks"])
        with timer.phase("train"):
            model, history = train_model(cfg, bar["training"])
        with timer.phase("evaluate"):
            accuracy = accuracy_table(model, heldout_examples(cfg))
        found = align(model, cfg, bar["alignment"], networks=control)
    timer.timings.update(found.timings)
    if progress:
        progress(1.0, "done")
    timer.timings["total"] = round(time.perf_counter() - start, 3)  # wall: phases overlap
    return RunResult(cfg, model, history, accuracy, found.das, found.neuron, found.controls,
                     timer.timings)
