"""Distributed Alignment Search: learn a rotation of one site so that swapping the first k
rotated coordinates (V1), and the next k (V2), from source into base reproduces the
high-level model's counterfactual labels.

Restarts are trained together as one batch of matrices (r, d, d). The orthogonal map uses
torch's orthogonal parametrization; the "linear" map is a general invertible matrix
(started orthogonal) whose inverse maps back. The restart with the best validation IIA is
reported on the test pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn
from torch.nn.utils.parametrizations import orthogonal

from explorer.core.config import DASConfig
from explorer.core.iia import IIA, SiteData, evaluate, intervened_logits
from explorer.core.interventions import block_mask
from explorer.core.models import MLP
from explorer.core.progress import Progress


class LearnedMap(nn.Module):
    """r independent d x d maps; `matrices()` gives (R, R^-1), each (r, d, d)."""

    def __init__(self, d: int, restarts: int, kind: str, gen: torch.Generator,
                 first: torch.Tensor | None = None):
        super().__init__()
        self.kind = kind
        start = torch.linalg.qr(torch.randn(restarts, d, d, generator=gen)).Q
        if first is not None:  # restart 0 starts from a given orthogonal matrix
            start[0] = first
        self.weight = nn.Parameter(start)
        if kind == "orthogonal":
            orthogonal(self, "weight")

    def matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.weight
        return (w, w.transpose(-1, -2)) if self.kind == "orthogonal" else (w, torch.linalg.inv(w))


def units_permutation(subsets: tuple[tuple[int, ...], ...], d: int) -> torch.Tensor:
    """The permutation P (d, d) whose rotated coordinates h @ P list the given units first
    (variable after variable), then the remaining units in order."""
    listed = [u for subset in subsets for u in subset]
    order = listed + [u for u in range(d) if u not in listed]
    return torch.eye(d)[:, order]


@dataclass(frozen=True)
class DASResult:
    rotation: torch.Tensor  # (d, d): the chosen restart's map
    inverse: torch.Tensor  # (d, d)
    var_mask: torch.Tensor  # (V, d) block mask
    best_restart: int
    test: IIA  # the chosen restart on the test pairs
    restarts: pd.DataFrame  # restart, val_iia, test_iia
    history: pd.DataFrame  # step, restart, loss, val_iia
    rotations: torch.Tensor  # (r, d, d): every restart's final map, for stability analyses


@torch.no_grad()
def _iia_per_restart(model: MLP, data: SiteData, mask, rotation, inverse) -> torch.Tensor:
    pred = intervened_logits(model, data, mask, rotation, inverse) > 0  # (r, n)
    return (pred == data.counterfactual_label).float().mean(-1)


def _log_rows(step: int, loss: torch.Tensor | None, val_iia: torch.Tensor) -> list[dict]:
    return [{"step": step, "restart": r, "loss": float("nan") if loss is None else float(loss[r].detach()),
             "val_iia": float(val_iia[r])} for r in range(len(val_iia))]


def train_das(model: MLP, train: SiteData, val: SiteData, test: SiteData, k: int,
              cfg: DASConfig, gen: torch.Generator, progress: Progress | None = None,
              first: torch.Tensor | None = None, log_every: int = 50) -> DASResult:
    """`first`, if given, is restart 0's starting matrix (d, d); the others start random."""
    d, n_vars = train.base_h.shape[-1], train.source_h.shape[1]
    learned = LearnedMap(d, cfg.restarts, cfg.map, gen, first)
    mask = block_mask(k, n_vars, d)
    opt = torch.optim.Adam(learned.parameters(), lr=cfg.das_lr)
    target = train.counterfactual_label.float()
    rows = _log_rows(0, None, _iia_per_restart(model, val, mask, *learned.matrices()))
    for step in range(1, cfg.das_steps + 1):
        idx = torch.randint(len(train), (cfg.das_batch_size,), generator=gen)
        rotation, inverse = learned.matrices()
        logits = intervened_logits(model, train.take(idx), mask, rotation, inverse)  # (r, B)
        loss = nn.functional.binary_cross_entropy_with_logits(
            logits, target[idx].expand_as(logits), reduction="none").mean(-1)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if step % log_every == 0 or step == cfg.das_steps:
            rows += _log_rows(step, loss, _iia_per_restart(model, val, mask, *learned.matrices()))
            if progress:
                progress(step / cfg.das_steps, f"DAS step {step}/{cfg.das_steps}")
    rotation, inverse = (m.detach() for m in learned.matrices())
    val_iia = _iia_per_restart(model, val, mask, rotation, inverse)
    test_iia = _iia_per_restart(model, test, mask, rotation, inverse)
    best = int(val_iia.argmax())
    return DASResult(
        rotation=rotation[best], inverse=inverse[best], var_mask=mask, best_restart=best,
        test=evaluate(model, test, mask, rotation[best], inverse[best]),
        restarts=pd.DataFrame({"restart": range(cfg.restarts), "val_iia": val_iia.tolist(),
                               "test_iia": test_iia.tolist()}),
        history=pd.DataFrame(rows), rotations=rotation)
