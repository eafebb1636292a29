"""The work of `runs.seeds.run_seeds`: the single-seed experiment (`methods.experiment.run`)
for every seed, with its batchable phases batched across seeds.

    in a worker thread, from the start: every seed's untrained and random-features networks
        prepared (pairs, neuron-wise searches; `experiment.prepare_controls`);
    meanwhile: every seed's model trained at once (`core.batched_train.train_seeds`); per
        seed task accuracy, pairs and the neuron-wise search (its second variable in a second
        thread);
    then one DAS over every network of every seed (`experiment.fit_das`: one batch in one
        thread, as `run` fits its three), while the second thread computes the controls that
        need no map; then per seed the remaining controls.

Every op is single-threaded and every random stream is the seed's own, as in `run`, so each
seed's numbers are those of its own run.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from explorer.core.batched_train import train_seeds
from explorer.core.config import RunConfig
from explorer.core.pairs import pair_set
from explorer.core.progress import Progress, scaled_progress
from explorer.core.train import accuracy_table, heldout_examples
from explorer.methods.experiment import RunResult, Timer, beside
from explorer.methods.steps import (Network, das_free_controls, fit_das, prepare_controls,
                                    run_controls, run_neuron)
from explorer.methods.fit_networks import MATRIX_MAPS


def run_all(cfgs: list[RunConfig], progress: Progress | None = None
            ) -> tuple[list[RunResult], dict[str, bool], dict[str, float]]:
    """(one RunResult per config, which phases were batched, shared timings)."""
    timer = Timer()
    with ThreadPoolExecutor(max_workers=1) as pool, ThreadPoolExecutor(max_workers=1) as side:
        prepared = pool.submit(timer.call, "control_networks",
                               lambda: [prepare_controls(c) for c in cfgs])
        with timer.phase("train"):
            trained, batched = train_seeds(cfgs, scaled_progress(progress, 0.0, 0.5))
        models = [m for m, _ in trained]
        with timer.phase("evaluate"):
            accuracy = [accuracy_table(m, heldout_examples(c)) for c, m in zip(cfgs, models)]
        with timer.phase("pairs"):
            pairs = [pair_set(m, c) for c, m in zip(cfgs, models)]
        if progress:
            progress(0.6, "neuron-wise searches")
        with timer.phase("neuron"):  # beside the control networks, if they are still running
            neuron = [run_neuron(m, c, p, map_fn=beside(side))
                      for c, m, p in zip(cfgs, models, pairs)]
        free = [side.submit(das_free_controls, m, c, p) for c, m, p in zip(cfgs, models, pairs)]
        controls = prepared.result()
        with timer.phase("das"):
            networks = [Network(m, c, "das", p, n)
                        for c, m, p, n in zip(cfgs, models, pairs, neuron)]
            networks += [control.network for pair in controls for control in pair]
            das = fit_das(networks, scaled_progress(progress, 0.7, 0.95))
    runs = []
    with timer.phase("controls"):
        for i, cfg in enumerate(cfgs):
            start = time.perf_counter()
            done = tuple(control.finish(d) for control, d in
                         zip(controls[i], das[len(cfgs) + 2 * i:len(cfgs) + 2 * i + 2]))
            found = run_controls(models[i], cfg, pairs[i], das[i], networks=done,
                                 free=free[i].result())
            runs.append(RunResult(cfg, models[i], trained[i][1], accuracy[i], das[i],
                                  neuron[i], found,
                                  {"controls": round(time.perf_counter() - start, 3)}))
    return runs, {"training": batched, "das": cfgs[0].das.map in MATRIX_MAPS}, timer.timings
