"""Distributed Alignment Search: learn a rotation of one site so that swapping the first k
rotated coordinates (V1), and the next k (V2), from source into base reproduces the
high-level model's counterfactual labels.

Restarts are trained together as one batch of matrices (r, d, d) by the shared loop of
`explorer.methods.fit`: each restart keeps its best-validation state (step 0 included), and
training stops once das_patience steps bring no restart a gain (das_steps is the cap). The
orthogonal map uses torch's orthogonal parametrization; the "linear" map is a general
invertible matrix (started orthogonal) whose inverse maps back. Restart 0 may start at a
given matrix (the neuron-wise answer by default: a permutation is a rotation, so DAS is then
never below the neuron-wise subsets on validation). The restart with the best validation IIA
is reported on the test pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import pandas as pd
import torch
from torch import nn
from torch.nn.utils.parametrizations import orthogonal

from explorer.core.config import DASConfig
from explorer.core.iia import IIA, SiteData, evaluate, intervened_logits
from explorer.core.interventions import block_mask
from explorer.core.models import MLP
from explorer.core.progress import Progress
from explorer.methods.fit import Budget, Fitted, MapState, OnLog, fit, restart_table


class LearnedMap(nn.Module):
    """r independent d x d maps; `matrices()` gives (R, R^-1), each (r, d, d)."""

    def __init__(self, d: int, restarts: int, kind: str, gen: torch.Generator | None,
                 first: torch.Tensor | None = None, *, start: torch.Tensor | None = None):
        """`start` (r, d, d), if given, is every restart's starting matrix (nothing drawn)."""
        super().__init__()
        self.kind = kind
        start = start_matrices(d, restarts, gen, first) if start is None else start
        self.weight = nn.Parameter(start)
        if kind == "orthogonal":
            orthogonal(self, "weight")

    def keep_rows(self, rows: torch.Tensor) -> tuple[nn.Parameter, nn.Parameter]:
        """Keep only the restarts `rows` (index tensor), in place: the parametrization's state
        (its unconstrained parameter and, for a rotation, its base) sliced, nothing
        recomputed, so each kept map goes on exactly as it would have. Returns (old
        parameter, new parameter), for the optimizer to carry its moments over."""
        if self.kind != "orthogonal":
            old = self.weight
            self.weight = nn.Parameter(old.detach()[rows].clone())
            return old, self.weight
        chain = self.parametrizations.weight
        old = chain.original
        chain.original = nn.Parameter(old.detach()[rows].clone())
        chain[0].base = chain[0].base[rows].clone()
        return old, chain.original

    def matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.weight
        return (w, w.transpose(-1, -2)) if self.kind == "orthogonal" else (w, torch.linalg.inv(w))


def start_matrices(d: int, restarts: int, gen: torch.Generator,
                   first: torch.Tensor | None = None) -> torch.Tensor:
    """Random orthogonal starts (r, d, d) from gen; restart 0 at `first` if given."""
    start = torch.linalg.qr(torch.randn(restarts, d, d, generator=gen)).Q
    if first is not None:  # restart 0 starts from a given orthogonal matrix
        start[0] = first
    return start


def units_permutation(subsets: tuple[tuple[int, ...], ...], d: int) -> torch.Tensor:
    """The permutation P (d, d) whose rotated coordinates h @ P list the given units first
    (variable after variable), then the remaining units in order."""
    listed = [u for subset in subsets for u in subset]
    order = listed + [u for u in range(d) if u not in listed]
    return torch.eye(d)[:, order]


@dataclass(frozen=True)
class DASResult:
    map: torch.Tensor  # (d, d): the chosen restart's map R (a rotation, or a linear map)
    inverse: torch.Tensor  # (d, d)
    var_mask: torch.Tensor  # (V, d) block mask
    best_restart: int
    test: IIA  # the chosen restart on the test pairs
    restarts: pd.DataFrame  # restart, start, val_iia, test_iia, best_step
    history: pd.DataFrame  # step, restart, loss, val_iia
    maps: torch.Tensor  # (r, d, d): every restart's kept map, for stability analyses
    converged: bool  # no restart improved its validation IIA over the last das_patience steps
    steps_used: int  # training steps actually taken (at most das_steps)


class _BlockFit:
    """DAS as a map family of the fitting loop: a learned map with a fixed block mask."""

    logged = ()

    def __init__(self, model: MLP, learned: LearnedMap, mask: torch.Tensor, lr: float):
        self.model, self.learned, self.lr = model, learned, lr
        self.mask = mask.expand(learned.weight.shape[0], *mask.shape)  # (r, V, d)

    def param_groups(self) -> list[dict]:
        return [{"params": self.learned.parameters(), "lr": self.lr}]

    def loss(self, batch: SiteData, step: int) -> tuple[torch.Tensor, dict]:
        logits = intervened_logits(self.model, batch, self.mask[0], *self.learned.matrices())
        target = batch.counterfactual_label.float().expand_as(logits)  # (r, B)
        return nn.functional.binary_cross_entropy_with_logits(
            logits, target, reduction="none").mean(-1), {}

    def state(self) -> MapState:
        with torch.no_grad():
            # clone: a linear map's weight is the live parameter, which Adam updates in place
            return MapState(*(m.detach().clone() for m in self.learned.matrices()), self.mask)

    def columns(self, step: int, state: MapState) -> dict:
        return {}

    def score(self, val_iia: torch.Tensor, state: MapState) -> torch.Tensor:
        return val_iia


def budget(cfg: DASConfig) -> Budget:
    return Budget(cfg.das_steps, cfg.das_batch_size, cfg.das_patience)


def start_names(restarts: int, first: str | None) -> list[str]:
    """What each restart started from: restart 0 from `first` (e.g. "neuron") if given."""
    return [first if first and r == 0 else "random" for r in range(restarts)]


def publisher(publish: Callable[..., None]) -> OnLog:
    """A fit's `on_log` for a live view (`publish(frame, latest=None)`, as `runs.jobs.Job`'s):
    it publishes each history row (step, restart, loss, val_iia, ...) as a dict, then the map
    frame {"step", "restart", "map", "mask"} under latest="map" (each replaces the last, so a
    long run keeps one): the kept map (numpy (d, d), a copy) and block mask of the restart
    that leads on validation (the one the report would choose now), and the step that kept
    state is from (so the frame stays the same while nothing improves). A map that is not a
    matrix (RevNet) publishes no map frame."""
    def on_log(rows: list[dict], best: MapState, score: torch.Tensor,
               kept_step: torch.Tensor) -> None:
        for row in rows:
            publish(row)
        leader = int(score.argmax())
        if torch.is_tensor(best.map):
            publish({"step": int(kept_step[leader]), "restart": leader,
                     "map": best.map[leader].detach().numpy().copy(),
                     "mask": best.mask[leader].detach().numpy().copy()}, latest="map")
    return on_log


def train_das(model: MLP, train: SiteData, val: SiteData, test: SiteData, k: int,
              cfg: DASConfig, gen: torch.Generator, progress: Progress | None = None,
              first: torch.Tensor | None = None, first_name: str = "given",
              log_every: int | None = None, on_log: OnLog | None = None) -> DASResult:
    """`first`, if given, is restart 0's starting matrix (d, d); the others start random.
    `log_every` overrides how often validation IIA is scored and logged; `on_log` sees every
    validation round (`fit`, `publisher`)."""
    d, n_vars = train.base_h.shape[-1], train.source_h.shape[1]
    mask = block_mask(k, n_vars, d)
    family = _BlockFit(model, LearnedMap(d, cfg.restarts, cfg.map, gen, first), mask, cfg.das_lr)
    plan = budget(cfg) if log_every is None else replace(budget(cfg), eval_every=log_every)
    fitted = fit(model, family, train, val, plan, gen, progress, "DAS", on_log)
    return das_result(model, fitted, test, mask,
                      start_names(cfg.restarts, first_name if first is not None else None))


def das_result(model: MLP, fitted: Fitted, test: SiteData, mask: torch.Tensor,
               starts: list[str]) -> DASResult:
    """The DAS report of a fitted map family: the best-validation restart on the test pairs."""
    best, restarts = restart_table(model, fitted, test, start=starts)
    chosen, inverse, _ = fitted.best.restart(best)
    return DASResult(
        map=chosen, inverse=inverse, var_mask=mask, best_restart=best,
        test=evaluate(model, test, mask, chosen, inverse),
        restarts=restarts[["restart", "start", "val_iia", "test_iia", "best_step"]],
        history=fitted.history, maps=fitted.best.map, converged=fitted.converged,
        steps_used=fitted.steps_used)
