"""The work of `runs.seeds.run_seeds`: the single-seed experiment (`methods.experiment.run`)
for every seed, with its batchable phases batched across seeds.

    in a worker thread, from the start: every seed's untrained and random-features networks,
        their pairs and neuron-wise searches, then one DAS over all 2 * seeds of them;
    meanwhile: every seed's model trained at once (`core.batched_train.train_seeds`); per
        seed task accuracy, pairs and the neuron-wise search (its second variable in a second
        thread); one DAS over every seed's trained network;
    then, once the control networks are done, per seed the remaining controls.

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
from explorer.core.rng import generator
from explorer.core.train import accuracy_table, heldout_examples, task_accuracy
from explorer.methods.controls import NetworkControl, output_spread
from explorer.methods.experiment import (RunResult, beside, Timer, das_start,
                                         random_features_model, run_controls, run_neuron,
                                         untrained_model)
from explorer.methods.fit_networks import DASJob, train_das_networks


def _job(model, cfg: RunConfig, stream: str, pairs=None, neuron=None) -> DASJob:
    """One network's DAS as `experiment.run_das` sets it up (pairs, start, generator)."""
    pairs = pairs or pair_set(model, cfg)
    return DASJob(model, pairs.train, pairs.val, pairs.test, generator(cfg.seed, stream),
                  das_start(model, cfg, pairs, neuron), cfg.das.das_init)


def control_networks(cfgs: list[RunConfig]) -> list[tuple[NetworkControl, NetworkControl]]:
    """Every seed's untrained and random-features controls (`experiment.network_controls`),
    their DAS fitted together."""
    nets = [(untrained_model(c), random_features_model(c)) for c in cfgs]
    jobs = [_job(net, c, stream) for c, pair in zip(cfgs, nets)
            for net, stream in zip(pair, ("das-untrained", "das-random-features"))]
    das = train_das_networks(jobs, cfgs[0].das.k, cfgs[0].das)
    out = []
    for i, (cfg, pair) in enumerate(zip(cfgs, nets)):
        examples = heldout_examples(cfg)
        out.append(tuple(NetworkControl(das[2 * i + j].test, output_spread(net, examples.x),
                                        task_accuracy(net, examples))
                         for j, net in enumerate(pair)))
    return out


def run_all(cfgs: list[RunConfig], progress: Progress | None = None
            ) -> tuple[list[RunResult], dict[str, bool], dict[str, float]]:
    """(one RunResult per config, which phases were batched, shared timings)."""
    timer = Timer()
    with ThreadPoolExecutor(max_workers=1) as pool, ThreadPoolExecutor(max_workers=1) as side:
        controls = pool.submit(timer.call, "control_networks", control_networks, cfgs)
        with timer.phase("train"):
            trained, batched = train_seeds(cfgs, scaled_progress(progress, 0.0, 0.5))
        with timer.phase("evaluate"):
            accuracy = [accuracy_table(m, heldout_examples(c)) for c, (m, _) in zip(cfgs, trained)]
        with timer.phase("pairs"):
            pairs = [pair_set(m, c) for c, (m, _) in zip(cfgs, trained)]
        if progress:
            progress(0.6, "neuron-wise searches")
        with timer.phase("neuron"):  # beside the control networks, if they are still running
            neuron = [run_neuron(m, c, p, map_fn=beside(side))
                      for c, (m, _), p in zip(cfgs, trained, pairs)]
        with timer.phase("das"):
            jobs = [_job(m, c, "das", p, n)
                    for c, (m, _), p, n in zip(cfgs, trained, pairs, neuron)]
            das = train_das_networks(jobs, cfgs[0].das.k, cfgs[0].das,
                                     scaled_progress(progress, 0.7, 0.95))
        networks = controls.result()
    runs = []
    with timer.phase("controls"):
        for i, cfg in enumerate(cfgs):
            start = time.perf_counter()
            found = run_controls(trained[i][0], cfg, pairs[i], das[i], networks=networks[i])
            runs.append(RunResult(cfg, trained[i][0], trained[i][1], accuracy[i], das[i],
                                  neuron[i], found,
                                  {"controls": round(time.perf_counter() - start, 3)}))
    return runs, {"training": batched, "das": True}, timer.timings

