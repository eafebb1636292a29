"""The whole experiment for one config: train, task accuracy, neuron-wise search, DAS and
every control, with timings.

    align(model, cfg) -> AlignmentResults   the search, DAS and controls on one pair set
    run(cfg) -> RunResult                   training first, then align; `summary()` is the
                                            JSON report (`methods.report`)

How it uses two cores. The neuron-wise searches score big chunks, a few long ops that let
go of Python's lock; DAS is a loop of small ops that each take it back, so two DAS loops in
two threads spend their time waiting on each other (measured: a DAS beside another took
1.65x its time alone). So the control networks are *prepared* (pairs, neuron-wise starts)
in a second thread, beside training and the search, and every network's DAS (the trained
one's and both controls') is then fitted as one batch in one thread (`fit_networks`), while
the second thread computes the controls that need no DAS. Every op is single-threaded and
every random stream passed in, so the numbers are those of running each part alone.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import pandas as pd

from explorer.core.config import RunConfig, validate
from explorer.core.models import MLP
from explorer.core.pairs import PairSet, pair_set
from explorer.core.progress import Progress, side_by_side
from explorer.core.train import accuracy_table, heldout_examples, train_model
from explorer.methods import report
from explorer.methods.controls import Controls, NetworkControl
from explorer.methods.das import DASResult
from explorer.methods.fit import OnLog
from explorer.methods.search import NeuronResult
from explorer.methods.steps import (ControlNetwork, Network, das_free_controls, fit_das,
                                    prepare_controls, run_controls, run_neuron)


def _reported(progress: Progress | None, fn, *args, **kwargs):
    """fn(*args, **kwargs) for a phase with no steps of its own: it reports its start and end."""
    if progress:
        progress(0.0, "started")
    out = fn(*args, **kwargs)
    if progress:
        progress(1.0, "done")
    return out


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


Networks = tuple[NetworkControl, NetworkControl] | tuple[ControlNetwork, ControlNetwork]


@dataclass(frozen=True)
class AlignmentResults:
    """Neuron-wise search, DAS and every control for one config, on the same test pairs."""

    pairs: PairSet
    neuron: NeuronResult
    das: DASResult
    controls: Controls
    timings: dict[str, float]


def align(model: MLP, cfg: RunConfig, progress: Progress | None = None,
          neuron: NeuronResult | None = None, networks: Networks | Future | None = None,
          on_log: OnLog | None = None) -> AlignmentResults:
    """The alignment half of the experiment; pass `neuron` to reuse a finished search and
    `networks` for the untrained and random-features controls: finished (their DAS done),
    prepared (`prepare_controls`: their DAS is fitted here, in one batch with the trained
    network's), or a Future of either (e.g. prepared beside training); None prepares them
    here, beside the search. `on_log` sees the trained network's DAS (not the control
    networks') at every validation round.

    A DAS that starts at the neuron-wise answer (the default) waits for it, searched with
    its variables split over the workers; otherwise the search runs beside DAS. The
    controls that need no map run beside DAS (module docstring: why DAS runs alone)."""
    timer = Timer()
    with timer.phase("pairs"):
        pairs = pair_set(model, cfg)
    phases = {"neuron-wise search": 0.15, "DAS": 0.7,
              **({"control networks": 0.15} if networks is None else {})}
    bar = side_by_side(progress, phases, 0.0, 0.95)
    searching = partial(_reported, bar["neuron-wise search"], run_neuron)
    with ThreadPoolExecutor(max_workers=2) as pool:
        if networks is None:
            networks = pool.submit(timer.call, "control_networks", prepare_controls, cfg,
                                   bar["control networks"])
        search = None
        if neuron is None and cfg.das.das_init == "neuron":  # DAS starts there: wait for it,
            neuron = timer.call("neuron", partial(searching, map_fn=beside(pool)), model,
                                cfg, pairs)
        elif neuron is None:  # ... or search beside DAS
            search = pool.submit(timer.call, "neuron", searching, model, cfg, pairs)
        free = pool.submit(das_free_controls, model, cfg, pairs)
        with timer.phase("das"):
            networks = networks.result() if isinstance(networks, Future) else networks
            das, networks = _fit_with_controls(Network(model, cfg, "das", pairs, neuron),
                                               networks, bar["DAS"], on_log)
        with timer.phase("controls"):
            if progress:
                progress(0.95, "controls")
            controls = run_controls(model, cfg, pairs, das, networks=networks,
                                    free=free.result())
        if neuron is None:
            neuron = search.result()
    if progress:
        progress(1.0, "alignment done")
    return AlignmentResults(pairs, neuron, das, controls, timer.timings)


def _fit_with_controls(trained: Network, networks: Networks, progress: Progress | None,
                       on_log: OnLog | None) -> tuple[DASResult, tuple[NetworkControl, ...]]:
    """The trained network's DAS, and the control networks' with it if they are only
    prepared: (its result, the finished control networks)."""
    if isinstance(networks[0], NetworkControl):
        return fit_das([trained], progress, on_log)[0], networks
    das = fit_das([trained, *(c.network for c in networks)], progress, on_log,
                  "DAS (with its control networks)")
    return das[0], tuple(c.finish(d) for c, d in zip(networks, das[1:]))


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
    # in time on 2 cores: training ~0.8 s, beside it the control networks' preparation
    # ~0.6 s, then the alignment (search, every network's DAS, controls) ~2 s
    bar = side_by_side(progress, {"training": 0.3, "control networks": 0.1, "alignment": 0.6},
                       unnamed=("alignment",))
    # the control networks prepared beside training; their DAS is fitted with the model's
    with ThreadPoolExecutor(max_workers=1) as pool:
        control = pool.submit(timer.call, "control_networks", prepare_controls, cfg,
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
