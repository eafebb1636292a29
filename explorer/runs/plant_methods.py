"""The methods a plant is recovered with, each behind one small adapter: the only code
that knows the methods' signatures and result types (so a change there touches only this
file). An adapter runs its method on a config and its pairs, and returns (test IIA, the
subspace each variable's swap reads (`explorer.analysis.recovery.read_subspace`), details).

    neuron      neuron-wise search (exhaustive or greedy over unit subsets)
    orthogonal  DAS with an orthogonal rotation
    linear      DAS with a general invertible linear map
    boundless   Boundless DAS (learned subspace sizes)
    revnet      DAS with the RevNet coupling map of hidden width `settings.map_width`
"""

from __future__ import annotations

import torch

from explorer.analysis.recovery import read_subspace
from explorer.core.rng import generator
from explorer.methods.boundless import train_boundless
from explorer.methods.steps import run_das, run_neuron
from explorer.methods.revnet import train_revnet

METHODS = ("neuron", "orthogonal", "linear", "boundless", "revnet")


def _subspaces(alignment, var_mask, pairs) -> list[torch.Tensor]:
    """Per variable; a map object (not a matrix) is linearized at 256 test base states."""
    states = pairs.test.base_h[:256]
    return [read_subspace(alignment, var_mask, v, states=states)
            for v in range(var_mask.shape[0])]


def _run_neuron(model, cfg, pairs, settings):
    found = run_neuron(model, cfg, pairs)
    return found.test, _subspaces(None, found.var_mask, pairs), {
        "units": [list(s) for s in found.subsets], "exhaustive": found.exhaustive}


def _das_matrix(result) -> torch.Tensor:
    """The matrix of a DAS or Boundless result, before and after their rotation -> map."""
    return result.map if hasattr(result, "map") else result.rotation


def _run_das(kind):
    def run(model, cfg, pairs, settings):
        found = run_das(model, cfg.with_values(map=kind), pairs, stream=f"plant-das-{kind}")
        return found.test, _subspaces(_das_matrix(found), found.var_mask, pairs), {}
    return run


def _run_boundless(model, cfg, pairs, settings):
    found = train_boundless(model, pairs.train, pairs.val, pairs.test, cfg.das,
                            generator(cfg.seed, "plant-boundless"))
    return found.test, _subspaces(_das_matrix(found), found.var_mask, pairs), {
        "sizes": list(found.sizes)}


def _run_revnet(model, cfg, pairs, settings):
    found = train_revnet(model, pairs.train, pairs.val, pairs.test, cfg.das.k, cfg.das,
                         generator(cfg.seed, "plant-revnet"), width=settings.map_width)
    return found.test, _subspaces(found.map, found.var_mask, pairs), {
        "map_width": settings.map_width, "blocks": found.blocks}


RUNNERS = {"neuron": _run_neuron, "orthogonal": _run_das("orthogonal"),
           "linear": _run_das("linear"), "boundless": _run_boundless, "revnet": _run_revnet}
