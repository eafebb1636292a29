"""Boundless DAS: learn a rotation of one site AND how many rotated coordinates each
high-level variable needs.

pyvene's semantics: the rotation is torch's orthogonal parametrization (`LearnedMap`);
each variable owns an interval of rotated coordinates that starts at its own slot,
V_v = [v * cap, v * cap + s_v) with cap = d // V (the largest k the config allows), so
V1 = [0, s_1) and V2 = [cap, cap + s_2) never overlap, and one variable's size does not move
the other's coordinates. Each size s_v = cap * sigmoid(theta_v) is learned. Coordinate j
(centre c_j = j + 1/2) enters variable v's soft mask as

    m_v(j) = sigmoid((c_j - lo_v) / T) * sigmoid((hi_v - c_j) / T)

with a temperature T annealed geometrically from `temperature_start` to `temperature_end`.
As T -> 0 the mask becomes the 0/1 indicator of the interval; the hard mask is the final soft
mask thresholded at 0.5, and a variable's learned size is its number of hard coordinates.

The loss is DAS's BCE against the counterfactual labels plus `size_penalty` * (s_1 + s_2), so
the subspace is as small as works. Restarts train together as a batch, as in `explorer.methods.das`;
the restart with the best validation IIA (hard mask) is reported on the test pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from explorer.core.config import DASConfig
from explorer.methods.das import LearnedMap
from explorer.core.iia import IIA, SiteData, evaluate, intervened_logits
from explorer.core.models import MLP
from explorer.core.progress import Progress


@dataclass(frozen=True)
class BoundlessConfig:
    temperature_start: float = 2.0  # in units of coordinates
    temperature_end: float = 0.05
    size_penalty: float = 0.05  # added loss per (soft) coordinate per variable
    boundary_lr: float = 0.05  # Adam lr of the size logits (the map uses das_lr)
    init_size: float = 0.75  # starting size as a fraction of cap = d // V


def interval_masks(sizes: torch.Tensor, d: int, temperature: float) -> torch.Tensor:
    """Soft masks of the intervals [v * cap, v * cap + s_v): sizes (..., V) in [0, cap]
    -> (..., V, d), values in [0, 1]."""
    cap = d // sizes.shape[-1]
    lo = (torch.arange(sizes.shape[-1], dtype=sizes.dtype) * cap).unsqueeze(-1)  # (V, 1)
    hi = lo + sizes.unsqueeze(-1)  # (..., V, 1)
    centre = torch.arange(d, dtype=sizes.dtype) + 0.5  # (d,)
    return torch.sigmoid((centre - lo) / temperature) * torch.sigmoid((hi - centre) / temperature)


def temperatures(cfg: BoundlessConfig, steps: int) -> torch.Tensor:
    """Geometric annealing schedule: (steps,), first = start, last = end."""
    t = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)
    start, end = cfg.temperature_start, cfg.temperature_end
    return start * (end / start) ** t


class Boundaries(nn.Module):
    """Learned interval sizes for r restarts and V variables: `sizes()` (r, V) in (0, cap)."""

    def __init__(self, restarts: int, n_vars: int, cap: int, init_size: float):
        super().__init__()
        self.cap = cap
        self.logit = nn.Parameter(torch.full((restarts, n_vars), float(torch.logit(
            torch.tensor(init_size)))))

    def sizes(self) -> torch.Tensor:
        return self.cap * torch.sigmoid(self.logit)


@dataclass(frozen=True)
class BoundlessResult:
    rotation: torch.Tensor  # (d, d): the chosen restart's map
    inverse: torch.Tensor  # (d, d)
    soft_mask: torch.Tensor  # (V, d) at the final temperature
    var_mask: torch.Tensor  # (V, d) hard 0/1 mask: soft_mask > 0.5
    sizes: tuple[int, ...]  # learned size per variable: hard coordinates
    best_restart: int
    test: IIA  # the chosen restart, hard mask, on the test pairs
    restarts: pd.DataFrame  # restart, val_iia, test_iia, size_V1[, size_V2]
    history: pd.DataFrame  # step, restart, loss, bce, temperature, size_V1[, size_V2], val_iia


def _hard_iia(model: MLP, data: SiteData, hard, rotation, inverse) -> torch.Tensor:
    with torch.no_grad():
        pred = intervened_logits(model, data, hard, rotation, inverse) > 0  # (r, n)
    return (pred == data.counterfactual_label).float().mean(-1)


def _log_rows(step, loss, bce, temp, hard, val_iia, names) -> list[dict]:
    sizes = hard.sum(-1)  # (r, V)
    return [{"step": step, "restart": r, "loss": float(loss[r]), "bce": float(bce[r]),
             "temperature": float(temp), **{f"size_{n}": int(sizes[r, v])
                                            for v, n in enumerate(names)},
             "val_iia": float(val_iia[r])} for r in range(len(loss))]


def _final_masks(bounds: Boundaries, d: int, bcfg: BoundlessConfig):
    with torch.no_grad():
        soft = interval_masks(bounds.sizes(), d, bcfg.temperature_end)  # (r, V, d)
    return soft, (soft > 0.5).float()


def train_boundless(model: MLP, train: SiteData, val: SiteData, test: SiteData, cfg: DASConfig,
                    gen: torch.Generator, bcfg: BoundlessConfig = BoundlessConfig(),
                    progress: Progress | None = None, first: torch.Tensor | None = None,
                    log_every: int = 50) -> BoundlessResult:
    """Uses cfg's map, restarts, das_steps, das_lr and das_batch_size (not k: sizes are
    learned). `first`, if given, is restart 0's starting matrix (d, d)."""
    d, n_vars = train.base_h.shape[-1], train.source_h.shape[1]
    names = train.type_names[:n_vars]
    learned = LearnedMap(d, cfg.restarts, cfg.map, gen, first)
    bounds = Boundaries(cfg.restarts, n_vars, d // n_vars, bcfg.init_size)
    opt = torch.optim.Adam([{"params": learned.parameters(), "lr": cfg.das_lr},
                            {"params": bounds.parameters(), "lr": bcfg.boundary_lr}])
    temps, target, rows = temperatures(bcfg, cfg.das_steps), train.counterfactual_label.float(), []
    for step in range(1, cfg.das_steps + 1):
        idx = torch.randint(len(train), (cfg.das_batch_size,), generator=gen)
        rotation, inverse = learned.matrices()
        sizes = bounds.sizes()  # (r, V)
        mask = interval_masks(sizes, d, float(temps[step - 1]))  # (r, V, d)
        logits = intervened_logits(model, train.take(idx), mask, rotation, inverse)  # (r, B)
        bce = nn.functional.binary_cross_entropy_with_logits(
            logits, target[idx].expand_as(logits), reduction="none").mean(-1)
        loss = bce + bcfg.size_penalty * sizes.sum(-1)  # (r,)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if step % log_every == 0 or step == cfg.das_steps:
            hard = (mask.detach() > 0.5).float()
            val_iia = _hard_iia(model, val, hard, *(m.detach() for m in learned.matrices()))
            rows += _log_rows(step, loss.detach(), bce.detach(), temps[step - 1], hard,
                              val_iia, names)
            if progress:
                progress(step / cfg.das_steps, f"Boundless DAS step {step}/{cfg.das_steps}")
    return _result(model, val, test, learned, bounds, bcfg, names, pd.DataFrame(rows))


def _result(model, val, test, learned, bounds, bcfg, names, history) -> BoundlessResult:
    rotation, inverse = (m.detach() for m in learned.matrices())
    soft, hard = _final_masks(bounds, rotation.shape[-1], bcfg)
    val_iia = _hard_iia(model, val, hard, rotation, inverse)
    test_iia = _hard_iia(model, test, hard, rotation, inverse)
    best = int(val_iia.argmax())
    sizes = hard.sum(-1).int()  # (r, V)
    restarts = pd.DataFrame({"restart": range(len(val_iia)), "val_iia": val_iia.tolist(),
                             "test_iia": test_iia.tolist(),
                             **{f"size_{n}": sizes[:, v].tolist() for v, n in enumerate(names)}})
    return BoundlessResult(
        rotation=rotation[best], inverse=inverse[best], soft_mask=soft[best],
        var_mask=hard[best], sizes=tuple(sizes[best].tolist()), best_restart=best,
        test=evaluate(model, test, hard[best], rotation[best], inverse[best]),
        restarts=restarts, history=history)
