"""DAS on several networks at once (e.g. every seed's trained network, or every seed's
control networks), each network with exactly the numbers its own `das.train_das` gives.

    train_das_networks([DASJob, ...], cfg)  ->  [DASResult, ...]

A job is one network with its own pairs, its own random stream and restart 0's start. The
restarts of all networks train as one batch of matrices (J * r, d, d): one parametrization,
one Adam, and one batched forward pass through the stacked networks per step. Everything that
makes a network's run its own stays per network: its minibatch indices (drawn from its own
generator, in the order `fit` draws them), its validation scoring, its kept best state and
its stopping step. A network that has stopped leaves the batch (its restarts' maps and Adam
moments are dropped); every op computes each matrix on its own, so the others go on as they
would have (the loop ends when every network has stopped).

The batched ops are chosen to compute per network what the single-network ops compute on
torch's CPU kernels (one GEMM per network and restart, and the readout as a matrix-vector
product, `core.batched_train`); the tests compare every network's result with `train_das`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from explorer.core.batched_train import _Readout
from explorer.core.config import DASConfig
from explorer.core.iia import SiteData
from explorer.core.interventions import block_mask, pair_mask
from explorer.core.models import MLP
from explorer.core.optim import Adam
from explorer.core.progress import Progress
from explorer.methods.das import (DASResult, LearnedMap, budget, das_result, start_matrices,
                                  start_names)
from explorer.methods.fit import Fitted, MapState, OnLog, _rows, iia_per_restart


MATRIX_MAPS = ("orthogonal", "linear")  # the map families this loop fits (not RevNet)


@dataclass(frozen=True)
class DASJob:
    """One network's DAS: its frozen model, its pairs, its generator, restart 0's start."""

    model: MLP
    train: SiteData
    val: SiteData
    test: SiteData
    gen: torch.Generator
    first: torch.Tensor | None = None
    first_name: str = "given"


class _Stacked:
    """J frozen MLPs of one shape, stacked: weights (J, out, in), biases (J, out)."""

    def __init__(self, models: list[MLP]):
        layers = [[*m.hidden_layers, m.readout] for m in models]
        self.weights = [torch.stack([ls[i].weight for ls in layers]) for i in range(len(layers[0]))]
        self.biases = [torch.stack([ls[i].bias for ls in layers]) for i in range(len(layers[0]))]
        self.act = models[0].act

    def forward_from(self, site: int, h: torch.Tensor) -> torch.Tensor:
        """h (J, rows, d) at `site` -> logits (J, rows)."""
        for w, b in zip(self.weights[site:-1], self.biases[site:-1]):
            h = self.act(torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2)))
        return _Readout.apply(h, self.weights[-1], self.biases[-1])


def _interchange(base_h, source_h, mask, rotation, inverse):
    """`interventions.interchange` for J networks: base_h (J, B, d), source_h (J, B, V, d),
    mask (J, B, V, d), rotation and inverse (J, r, d, d) -> (J, r, B, d), per network the same
    ops (a broadcast bmm per restart) as the single-network call."""
    j, r, d = rotation.shape[0], rotation.shape[1], rotation.shape[-1]
    b, n_vars = source_h.shape[1], source_h.shape[2]
    rot, inv = rotation.reshape(j * r, d, d), inverse.reshape(j * r, d, d)
    r_base = torch.bmm(base_h.unsqueeze(1).expand(j, r, b, d).reshape(j * r, b, d), rot)
    src = source_h.reshape(j, 1, b * n_vars, d).expand(j, r, b * n_vars, d)
    r_source = torch.bmm(src.reshape(j * r, b * n_vars, d), rot).reshape(j, r, b, n_vars, d)
    r_base = r_base.reshape(j, r, b, d)
    r_new = r_base + (mask.unsqueeze(1) * (r_source - r_base.unsqueeze(-2))).sum(-2)
    return torch.bmm(r_new.reshape(j * r, b, d), inv).reshape(j, r, b, d)


class _Tracker:
    """One network's side of the loop: its kept best state, history and stopping step;
    `on_log`, if given, sees each validation round as `fit.fit`'s does."""

    def __init__(self, job: DASJob, mask: torch.Tensor, state: MapState, patience: int,
                 gain_pairs: int, on_log: OnLog | None = None):
        self.job, self.mask, self.patience, self.on_log = job, mask, patience, on_log
        self.best = state
        self.best_val = iia_per_restart(job.model, job.val, state)
        self.best_score, self.best_step = self.best_val, torch.zeros(len(self.best_val),
                                                                     dtype=torch.long)
        self.rows = _rows(_NoExtras, 0, state, self.best_val, None, {})
        self.improved_at, self.stopped_at = 0, None
        self.gain = gain_pairs / len(job.val)
        if on_log:
            on_log(list(self.rows), self.best, self.best_score, self.best_step)

    def record(self, step: int, state: MapState, loss: torch.Tensor, last: bool) -> None:
        val_iia = iia_per_restart(self.job.model, self.job.val, state)
        if (val_iia >= self.best_score + self.gain - 1e-9).any():
            self.improved_at = step
        keep = val_iia >= self.best_score
        self.best, self.best_val = state.where(keep, self.best), torch.where(keep, val_iia,
                                                                             self.best_val)
        self.best_score = torch.where(keep, val_iia, self.best_score)
        self.best_step = torch.where(keep, step, self.best_step)
        new = _rows(_NoExtras, step, state, val_iia, loss, {})
        self.rows += new
        if self.on_log:
            self.on_log(new, self.best, self.best_score, self.best_step)
        if step - self.improved_at >= self.patience or last:
            self.stopped_at = step

    def fitted(self) -> Fitted:
        return Fitted(self.best, self.best_val, self.best_score, self.best_step,
                      self.stopped_at, self.stopped_at - self.improved_at >= self.patience,
                      pd.DataFrame(self.rows))


class _NoExtras:  # DAS logs nothing beyond loss and validation IIA (`das._BlockFit`)
    logged = ()

    @staticmethod
    def columns(step, state):
        return {}


def train_das_networks(jobs: list[DASJob], k: int, cfg: DASConfig,
                       progress: Progress | None = None, on_log: OnLog | None = None,
                       label: str | None = None) -> list[DASResult]:
    """Every job's DAS (as `train_das(job.model, ..., k, cfg, job.gen, first=job.first)`),
    fitted together; `on_log` sees the first job's validation rounds (as `train_das`'s);
    `label` names the loop in progress messages (default 'DAS (J networks)').
    The networks must share their shape and site; the map is a matrix (orthogonal or
    linear)."""
    label = label or f"DAS ({len(jobs)} networks)"
    if cfg.map not in MATRIX_MAPS:
        raise ValueError(f"map {cfg.map!r}: fitted together only as a matrix {MATRIX_MAPS}")
    plan, r = budget(cfg), cfg.restarts
    d, n_vars = jobs[0].train.base_h.shape[-1], jobs[0].train.source_h.shape[1]
    mask = block_mask(k, n_vars, d)
    starts = torch.cat([start_matrices(d, r, job.gen, job.first) for job in jobs])
    learned = LearnedMap(d, len(starts), cfg.map, None, start=starts)
    opt = Adam([{"params": learned.parameters(), "lr": cfg.das_lr}])
    state = _states(learned, mask, len(jobs), r)
    trackers = [_Tracker(job, mask, s, plan.patience, plan.min_gain_pairs,
                         on_log if i == 0 else None) for i, (job, s) in enumerate(zip(jobs, state))]
    site, alive = jobs[0].train.site, list(range(len(jobs)))
    net = _Stacked([job.model for job in jobs])
    for step in range(1, plan.steps + 1):
        batch = [jobs[i].train.take(torch.randint(len(jobs[i].train), (plan.batch_size,),
                                                  generator=jobs[i].gen)) for i in alive]
        loss = _loss(net, site, batch, mask, learned, len(alive), r)  # (J alive, r)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if step % plan.eval_every and step != plan.steps:
            continue
        for i, s, l in zip(alive, _states(learned, mask, len(alive), r), loss.detach()):
            trackers[i].record(step, s, l, step == plan.steps)
        if progress:
            progress(step / plan.steps, f"{label} step {step}/{plan.steps}")
        still = [p for p, i in enumerate(alive) if trackers[i].stopped_at is None]
        if not still:
            break
        if len(still) < len(alive):  # drop the stopped networks from the batch
            rows = torch.tensor([p * r + q for p in still for q in range(r)])
            opt.narrow(learned.keep_rows(rows), rows)
            alive = [alive[p] for p in still]
            net = _Stacked([jobs[i].model for i in alive])
    names = start_names(r, None)
    return [das_result(job.model, t.fitted(), job.test, mask,
                       start_names(r, job.first_name) if job.first is not None else names)
            for job, t in zip(jobs, trackers)]


def _states(learned: LearnedMap, mask: torch.Tensor, n_jobs: int, r: int) -> list[MapState]:
    with torch.no_grad():  # clone: a linear map's weight is the live parameter (`das._BlockFit`)
        rot, inv = (m.detach().clone() for m in learned.matrices())
    full = mask.expand(r, *mask.shape)
    return [MapState(rot[i * r:(i + 1) * r], inv[i * r:(i + 1) * r], full)
            for i in range(n_jobs)]


def _loss(net: _Stacked, site: int, batch: list[SiteData], mask: torch.Tensor,
          learned: LearnedMap, n_jobs: int, r: int) -> torch.Tensor:
    """Every network's and restart's mean BCE on its own minibatch: (J, r)."""
    rot, inv = learned.matrices()
    d = rot.shape[-1]
    base = torch.stack([b.base_h for b in batch])  # (J, B, d)
    source = torch.stack([b.source_h for b in batch])  # (J, B, V, d)
    masks = torch.stack([pair_mask(mask, b.intervened) for b in batch])  # (J, B, V, d)
    h = _interchange(base, source, masks, rot.view(n_jobs, r, d, d), inv.view(n_jobs, r, d, d))
    bsz = base.shape[1]
    logits = net.forward_from(site, h.reshape(n_jobs, r * bsz, d)).view(n_jobs, r, bsz)
    target = torch.stack([b.counterfactual_label for b in batch]).float()  # (J, B)
    return nn.functional.binary_cross_entropy_with_logits(
        logits, target.unsqueeze(1).expand_as(logits), reduction="none").mean(-1)
