"""Search-hardness and illusion diagnostics for an alignment (a map R (d, d) plus a variable
mask (V, d)); every intervention goes through the engine's one interchange primitive.

* `oracle_table`: the exact input alignments of `explorer.analysis.subspaces` scored directly.
* `das_grid` / `das_success`: DAS over learning rates x initializations x restarts (the
  runs; one row each, with `success = test_iia >= threshold`, at the input the exact
  oracle's IIA - 0.02).
* `tilt_path`: IIA and loss of the exact input answer tilted away by t degrees (the basin).
* `out_of_range`: how far swapped states fall outside the states the layer naturally takes.
* `illusion_check`: which part of a variable's subspace the next layer actually reads.

Measured (ReLU seeds 0 and 1, sigmoid seed 0; 3x16, accuracy >= 0.999): at the input both
oracles score task accuracy, yet random-start DAS found neither in 16 of 16 tries per net
(k = 8 and k = 4, lr 0.01 and 0.05, 4 restarts, 400 steps: best 0.75, mostly 0.5-0.65),
while identity and neuron-wise starts at k = 8 stay exact. An equality swap must be aligned
exactly: any residual of the base's a - b makes a and b unequal again, so the loss gives
little gradient toward the answer. That is a statement about short searches: with 15,000
steps some random starts do arrive (`explorer.study.budget`, FINDINGS.md question 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from explorer.core.config import RunConfig
from explorer.core.iia import IIA, SiteData, evaluate, intervened_logits, report
from explorer.core.interventions import interchange, pair_mask
from explorer.core.models import MLP
from explorer.core.pairs import PairSet
from explorer.methods.das import DASResult
from explorer.methods.steps import run_das, run_neuron
from explorer.methods.search import NeuronResult
from explorer.analysis.subspaces import (basis_alignment, difference_subspaces, input_oracles,
                                         orthonormalize)
from explorer.core.alignment import subspace


def iia_row(result: IIA) -> dict:
    """One flat row of an IIA report: iia, iia_<type>..., iia_label_changed, baseline."""
    return {"iia": result.iia, **{f"iia_{t}": v for t, v in result.by_type.items()},
            "iia_label_changed": result.changed, "baseline": result.baseline}


def oracle_table(model: MLP, test: SiteData, entity_dim: int) -> pd.DataFrame:
    """IIA of the exact input alignments (test must be site 0): one row per alignment."""
    n_vars = test.source_h.shape[1]
    rows = []
    for oracle in input_oracles(entity_dim, n_vars):
        result = evaluate(model, test, oracle.var_mask, oracle.map)
        rows.append({"alignment": oracle.name, "k": oracle.k, **iia_row(result)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class GridRun:
    lr: float
    init: str
    das: DASResult


def das_grid(model: MLP, cfg: RunConfig, pairs: PairSet, lrs: tuple[float, ...],
             inits: tuple[str, ...], neuron: NeuronResult | None = None) -> list[GridRun]:
    """DAS at cfg's site and k for every lr x init. Random init trains cfg.das.restarts
    restarts; identity and neuron starts are one deterministic restart. All lrs share the
    same starting rotations (the config's "das" stream)."""
    if "neuron" in inits and neuron is None:
        neuron = run_neuron(model, cfg, pairs)
    runs = []
    for lr in lrs:
        for init in inits:
            run_cfg = cfg.with_values(das_lr=lr, das_init=init,
                                      restarts=cfg.das.restarts if init == "random" else 1)
            runs.append(GridRun(lr, init, run_das(model, run_cfg, pairs, neuron=neuron)))
    return runs


def das_success(model: MLP, cfg: RunConfig, pairs: PairSet, lrs: tuple[float, ...],
                inits: tuple[str, ...], threshold: float,
                neuron: NeuronResult | None = None) -> pd.DataFrame:
    """`das_grid` as one row per (lr, init, restart): val_iia, test_iia, success
    (test_iia >= threshold) and chosen (the restart DAS would report)."""
    rows = []
    for run in das_grid(model, cfg, pairs, lrs, inits, neuron):
        for r in run.das.restarts.itertuples():
            rows.append({"site": cfg.das.site, "k": cfg.das.k, "lr": run.lr, "init": run.init,
                         "restart": r.restart, "val_iia": r.val_iia,
                         "test_iia": r.test_iia, "success": r.test_iia >= threshold,
                         "chosen": r.restart == run.das.best_restart})
    return pd.DataFrame(rows)


def tilt_path(model: MLP, data: SiteData, entity_dim: int, degrees: tuple[float, ...],
              draws: int, gen: torch.Generator) -> list[dict]:
    """The basin around the exact input answer. V1's exact difference subspace D (site 0,
    entity_dim dims) is tilted by t degrees toward a random orthonormal E orthogonal to it,
    Q = cos t D + sin t E, and swapped as V1 on the data (V1-only pairs): one row per draw
    of E and angle with iia, iia_label_changed, baseline and DAS's training loss (BCE of the
    intervened logits against the counterfactual labels)."""
    exact = difference_subspaces(entity_dim).subspace(0).double()  # (d, D)
    target = data.counterfactual_label.float()
    rows = []
    for draw in range(draws):
        noise = torch.randn(*exact.shape, generator=gen, dtype=torch.float64)
        away = torch.linalg.qr(noise - exact @ (exact.T @ noise)).Q  # (d, D), orthogonal to D
        for t in degrees:
            angle = math.radians(t)
            rotation, mask = basis_alignment(math.cos(angle) * exact + math.sin(angle) * away,
                                             0, 2)
            with torch.no_grad():
                logits = intervened_logits(model, data, mask, rotation)
            result = report(logits > 0, data)
            rows.append({"draw": draw, "degrees": t, "iia": result.iia,
                         "iia_label_changed": result.changed, "baseline": result.baseline,
                         "loss": float(nn.functional.binary_cross_entropy_with_logits(
                             logits, target))})
    return rows


@dataclass(frozen=True)
class NaturalRange:
    """Factual states at a site: per-unit range and a Gaussian fit (float64)."""

    low: torch.Tensor  # (d,)
    high: torch.Tensor  # (d,)
    mean: torch.Tensor  # (d,)
    precision: torch.Tensor  # (d, d): inverse of the ridge-regularized covariance


def natural_range(states: torch.Tensor, ridge: float = 1e-3) -> NaturalRange:
    """Fit from factual states (n, d). The ridge (relative to the mean variance) keeps dead
    units, whose variance is 0, from making the covariance singular."""
    x = states.double()
    cov = torch.cov(x.T).reshape(x.shape[1], x.shape[1])
    cov = cov + ridge * cov.diagonal().mean().clamp_min(1e-12) * torch.eye(x.shape[1],
                                                                           dtype=x.dtype)
    return NaturalRange(x.min(0).values, x.max(0).values, x.mean(0), torch.linalg.inv(cov))


def range_stats(natural: NaturalRange, states: torch.Tensor, tol: float = 0.01) -> dict:
    """frac_outside: states with any unit beyond [low, high] widened by tol x its span;
    units_outside: mean count of such units; mahalanobis: mean distance to the fit."""
    x = states.double()
    margin = tol * (natural.high - natural.low) + 1e-6
    outside = (x < natural.low - margin) | (x > natural.high + margin)  # (n, d)
    z = x - natural.mean
    distance = ((z @ natural.precision) * z).sum(-1).clamp_min(0).sqrt()
    return {"frac_outside": float(outside.any(-1).double().mean()),
            "units_outside": float(outside.sum(-1).double().mean()),
            "mahalanobis": float(distance.mean()), "n": x.shape[0]}


def intervened_states(data: SiteData, var_mask: torch.Tensor, rotation: torch.Tensor | None = None,
                      inverse: torch.Tensor | None = None) -> torch.Tensor:
    """The swapped states themselves (n, d), before the rest of the forward pass."""
    return interchange(data.base_h, data.source_h, pair_mask(var_mask, data.intervened),
                       rotation, inverse)


def out_of_range(reference: torch.Tensor, data: SiteData, var_mask: torch.Tensor,
                 rotation: torch.Tensor | None = None, inverse: torch.Tensor | None = None,
                 tol: float = 0.01) -> pd.DataFrame:
    """Range statistics of the data's factual base states ("natural") and of its swapped
    states ("intervened"), against a range fitted on `reference` factual states (m, d).
    Fit on other pairs' states than `data`'s so the natural row is an honest baseline."""
    natural = natural_range(reference)
    swapped = intervened_states(data, var_mask, rotation, inverse)
    return pd.DataFrame([{"states": "natural", **range_stats(natural, data.base_h, tol)},
                         {"states": "intervened", **range_stats(natural, swapped, tol)}])


def next_layer_weight(model: MLP, site: int) -> torch.Tensor:
    """The weight that reads site `site`: the next hidden layer's (width, d), or at the last
    hidden layer the readout's (1, d)."""
    layers = model.hidden_layers
    return (layers[site] if site < len(layers) else model.readout).weight.detach()


def row_null_split(basis: torch.Tensor, weight: torch.Tensor,
                   tol: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """Split span(basis) (d, k) by the weight (out, d) that reads it: orthonormal bases of
    P_row Q (what the weight reads) and (I - P_row) Q (what it ignores), float64. The row
    space keeps singular directions above tol x the largest; a part keeps directions whose
    norm (a cosine, since Q is orthonormal) exceeds tol."""
    _, s, vh = torch.linalg.svd(weight.double(), full_matrices=False)
    rows = vh[s > tol * s.max()].T  # (d, rank)
    q = orthonormalize(basis)
    read = rows @ (rows.T @ q)  # (d, k)
    return orthonormalize(read, atol=tol), orthonormalize(q - read, atol=tol)


def illusion_check(model: MLP, data: SiteData, rotation: torch.Tensor, var_mask: torch.Tensor,
                   tol: float = 1e-4) -> pd.DataFrame:
    """Interpretability-illusion check (Makelov et al. 2023) for each variable v.

    Q = variable v's subspace (columns of `rotation` where its mask is on). W = the weight of
    the layer that reads the site (`next_layer_weight`; the readout at the last hidden layer).
    Q splits into its projection on W's row space (what the next layer reads) and the rest,
    which lies in W's null space (what it ignores); each part, orthonormalized, becomes an
    alignment of its own (completed to a rotation, k = the part's dim) that swaps v alone.
    Parts: "whole" (Q itself), "row", "null", and "none" (no swap: the baseline). The two
    parts are orthogonal, but together they can span more than Q (k_row + k_null >= k).
    A null part swap cannot change the output (h changes only in W's null space), so its IIA
    equals "none"; a subspace whose IIA needs its null part would be an illusion.
    iia is on the pairs that intervene on v alone (by_type[v]); iia_all on all pairs.
    With a square full-rank next layer (trained width-d MLPs) the null space is empty and
    the split is trivial; it bites at the last hidden layer and in rank-deficient layers."""
    weight = next_layer_weight(model, data.site)
    n_vars, rows = var_mask.shape[0], []
    for v in range(n_vars):
        q = subspace(rotation, var_mask, v)
        row, null = row_null_split(q, weight, tol)
        parts = {"whole": q, "row": row, "null": null, "none": q[:, :0]}
        for part, basis in parts.items():
            part_rotation, part_mask = basis_alignment(basis, v, n_vars)
            result = evaluate(model, data, part_mask, part_rotation)
            rows.append({"variable": data.type_names[v], "part": part, "dim": basis.shape[1],
                         "iia": result.by_type[data.type_names[v]], "iia_all": result.iia,
                         "baseline": result.baseline})
    return pd.DataFrame(rows)
