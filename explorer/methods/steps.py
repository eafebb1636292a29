"""The steps of the experiment, each a plain function of a model and a config (the
scheduling of them over two threads is `methods.experiment`'s):

    run_neuron(model, cfg, pairs) -> NeuronResult       the neuron-wise search
    run_das(model, cfg, pairs) -> DASResult             DAS with the config's map family
    fit_das([Network, ...]) -> [DASResult, ...]         several networks' DAS, one batch
    prepare_controls(cfg) -> (ControlNetwork, ...)      the control networks, ready for DAS
    network_controls(cfg) -> (NetworkControl, ...)      ... and their DAS done
    run_controls(model, cfg, pairs, das) -> Controls    every control of a DAS result
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.core.config import RunConfig
from explorer.core.interventions import block_mask
from explorer.core.models import MLP
from explorer.core.pairs import PairSet, pair_set
from explorer.core.progress import Progress, labelled, scaled_progress
from explorer.core.rng import generator
from explorer.core.task import sample_examples
from explorer.core.train import entities_for, heldout_examples, new_model, task_accuracy
from explorer.methods.controls import (Controls, NetworkControl, OutputSpread,
                                       cross_variable_iia, fit_readout, full_layer_iia,
                                       full_layer_source_label_iia, output_spread,
                                       permutation_iia, random_rotation_iias)
from explorer.methods.das import DASResult, train_das, units_permutation
from explorer.methods.fit import OnLog
from explorer.methods.fit_networks import MATRIX_MAPS, DASJob, train_das_networks
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


@dataclass(frozen=True)
class Network:
    """A network ready for its DAS: its pairs and (for the neuron-wise start) its search."""

    model: MLP
    cfg: RunConfig
    stream: str  # DAS's generator stream
    pairs: PairSet
    neuron: NeuronResult | None = None

    def job(self) -> DASJob:
        """Its DAS as `run_das` sets it up (its pairs, generator and start)."""
        return DASJob(self.model, self.pairs.train, self.pairs.val, self.pairs.test,
                      generator(self.cfg.seed, self.stream),
                      das_start(self.model, self.cfg, self.pairs, self.neuron),
                      self.cfg.das.das_init)


def fit_das(networks: list[Network], progress: Progress | None = None,
            on_log: OnLog | None = None, label: str | None = None) -> list[DASResult]:
    """Each network's `run_das`, the same numbers, fitted together where the map is a matrix
    (`fit_networks`; `label` names that loop in progress messages), else one after another;
    `on_log` sees the first network's."""
    cfg = networks[0].cfg
    if cfg.das.map in MATRIX_MAPS and len(networks) > 1:
        return train_das_networks([n.job() for n in networks], cfg.das.k, cfg.das, progress,
                                  on_log, label)
    return [run_das(n.model, n.cfg, n.pairs, n.stream, progress if i == 0 else None, n.neuron,
                    on_log if i == 0 else None) for i, n in enumerate(networks)]


@dataclass(frozen=True)
class ControlNetwork:
    """A control network ready for its DAS, with what needs no DAS."""

    network: Network
    output: OutputSpread
    task_accuracy: float

    def finish(self, das: DASResult) -> NetworkControl:
        return NetworkControl(das.test, self.output, self.task_accuracy)


def prepare_control(net: MLP, cfg: RunConfig, stream: str,
                    progress: Progress | None = None) -> ControlNetwork:
    """A control network's pairs, its neuron-wise search (where DAS starts there), its
    output spread and task accuracy."""
    if progress:
        progress(0.0, "pairs and neuron-wise start")
    pairs = pair_set(net, cfg)
    neuron = run_neuron(net, cfg, pairs) if cfg.das.das_init == "neuron" else None
    examples = heldout_examples(cfg)
    ready = ControlNetwork(Network(net, cfg, stream, pairs, neuron),
                           output_spread(net, examples.x), task_accuracy(net, examples))
    if progress:
        progress(1.0, "ready for DAS")
    return ready


def prepare_controls(cfg: RunConfig, progress: Progress | None = None
                     ) -> tuple[ControlNetwork, ControlNetwork]:
    """The untrained and random-features networks, ready for their DAS: they need only the
    config, so they can be prepared beside training (and so can the import of the permutation
    control's solver, 0.25 s that would otherwise fall between DAS and the report)."""
    prepared = (prepare_control(untrained_model(cfg), cfg, "das-untrained",
                                labelled(scaled_progress(progress, 0.0, 0.5),
                                         "untrained control")),
                prepare_control(random_features_model(cfg), cfg, "das-random-features",
                                labelled(scaled_progress(progress, 0.5, 1.0),
                                         "random-features control")))
    from scipy.optimize import linear_sum_assignment  # noqa: F401  (see above)
    return prepared


def network_controls(cfg: RunConfig,
                     progress: Progress | None = None) -> tuple[NetworkControl, NetworkControl]:
    """The untrained and random-features controls, finished: the same DAS on each."""
    prepared = prepare_controls(cfg, scaled_progress(progress, 0.0, 0.5))
    das = fit_das([c.network for c in prepared], labelled(scaled_progress(progress, 0.5, 1.0),
                                                          "control networks"))
    return tuple(c.finish(d) for c, d in zip(prepared, das))


def das_free_controls(model: MLP, cfg: RunConfig, pairs: PairSet) -> dict:
    """The controls that need no learned map (the block mask every DAS result uses): they
    can run while DAS fits."""
    test = pairs.test
    mask = block_mask(cfg.das.k, test.source_h.shape[1], test.base_h.shape[-1])
    return {"random_rotation": random_rotation_iias(model, test, mask,
                                                    generator(cfg.seed, "random-rotation")),
            "full_layer": full_layer_iia(model, test),
            "full_layer_source_label": full_layer_source_label_iia(model, test)}


def run_controls(model: MLP, cfg: RunConfig, pairs: PairSet, das: DASResult,
                 progress: Progress | None = None,
                 networks: tuple[NetworkControl, NetworkControl] | None = None,
                 free: dict | None = None) -> Controls:
    """Every control of a DAS result (see explorer.methods.controls), on the same test pairs;
    pass `networks` when the untrained and random-features controls are already done, and
    `free` when `das_free_controls` is."""
    untrained, features = networks or network_controls(cfg, progress)
    test = pairs.test
    return Controls(
        untrained=untrained, random_features=features,
        closest_permutation=permutation_iia(model, test, das.var_mask, das.map),
        cross_variable=cross_variable_iia(model, test, das.var_mask, das.map, das.inverse),
        **(free or das_free_controls(model, cfg, pairs)))
