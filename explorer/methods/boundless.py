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
As T -> 0 the mask becomes the 0/1 indicator of the interval; the hard mask is the soft mask
at the final temperature thresholded at 0.5, and a variable's learned size is its number of
hard coordinates. Validation IIA is that of the hard mask; the state each restart keeps is
the one with the best validation IIA less `size_cost` per coordinate.

The loss is DAS's BCE against the counterfactual labels plus `size_penalty` * (s_1 + s_2), so
the subspace is as small as works. Training is the shared loop of `explorer.methods.fit`
(restarts as a batch, best validation state kept, patience); the restart with the best
validation IIA is reported on the test pairs. The temperature anneals over the cap
das_steps, so a run stopped early by patience ends warmer than temperature_end.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from explorer.core.config import DASConfig
from explorer.core.iia import IIA, SiteData, evaluate, intervened_logits
from explorer.core.models import MLP
from explorer.core.progress import Progress
from explorer.methods.das import LearnedMap, budget
from explorer.methods.fit import MapState, fit, restart_table


@dataclass(frozen=True)
class BoundlessConfig:
    temperature_start: float = 2.0  # in units of coordinates
    temperature_end: float = 0.05
    size_penalty: float = 0.05  # added loss per (soft) coordinate per variable
    boundary_lr: float = 0.05  # Adam lr of the size logits (the map uses das_lr)
    init_size: float = 0.75  # starting size as a fraction of cap = d // V
    size_cost: float = 0.002  # validation IIA a coordinate must buy: which state is "best"


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
    map: torch.Tensor  # (d, d): the chosen restart's map
    inverse: torch.Tensor  # (d, d)
    soft_mask: torch.Tensor  # (V, d) at the final temperature
    var_mask: torch.Tensor  # (V, d) hard 0/1 mask: soft_mask > 0.5
    sizes: tuple[int, ...]  # learned size per variable: hard coordinates
    best_restart: int
    test: IIA  # the chosen restart, hard mask, on the test pairs
    restarts: pd.DataFrame  # restart, val_iia, test_iia, best_step, size_V1[, size_V2]
    history: pd.DataFrame  # step, restart, loss, bce, temperature, size_V1[, size_V2], val_iia
    converged: bool  # no restart improved its validation IIA over the last das_patience steps
    steps_used: int


class _IntervalFit:
    """Boundless DAS as a map family of the fitting loop: a learned map and learned interval
    sizes; trained with annealed soft masks, reported (and validated) with hard ones."""

    logged = ("bce",)

    def __init__(self, model: MLP, learned: LearnedMap, bounds: Boundaries, bcfg: BoundlessConfig,
                 lr: float, steps: int, names: tuple[str, ...]):
        self.model, self.learned, self.bounds, self.bcfg, self.lr = model, learned, bounds, bcfg, lr
        self.temps, self.names = temperatures(bcfg, steps), names
        self.d = learned.weight.shape[-1]

    def param_groups(self) -> list[dict]:
        return [{"params": self.learned.parameters(), "lr": self.lr},
                {"params": self.bounds.parameters(), "lr": self.bcfg.boundary_lr}]

    def loss(self, batch: SiteData, step: int) -> tuple[torch.Tensor, dict]:
        sizes = self.bounds.sizes()  # (r, V)
        mask = interval_masks(sizes, self.d, float(self.temps[step - 1]))  # (r, V, d)
        logits = intervened_logits(self.model, batch, mask, *self.learned.matrices())  # (r, B)
        bce = nn.functional.binary_cross_entropy_with_logits(
            logits, batch.counterfactual_label.float().expand_as(logits),
            reduction="none").mean(-1)
        return bce + self.bcfg.size_penalty * sizes.sum(-1), {"bce": bce}

    def state(self) -> MapState:
        with torch.no_grad():
            soft = interval_masks(self.bounds.sizes(), self.d, self.bcfg.temperature_end)
            rotation, inverse = (m.detach().clone() for m in self.learned.matrices())  # see das
            return MapState(rotation, inverse, (soft > 0.5).float(), {"soft": soft})

    def columns(self, step: int, state: MapState) -> dict:
        sizes = state.mask.sum(-1)  # (r, V)
        return {"temperature": float(self.temps[max(step, 1) - 1]),
                **{f"size_{n}": sizes[:, v] for v, n in enumerate(self.names)}}

    def score(self, val_iia: torch.Tensor, state: MapState) -> torch.Tensor:
        """Validation IIA less size_cost per hard coordinate: of two states equally good on
        validation, the smaller subspace is the better answer (as in the training loss)."""
        return val_iia - self.bcfg.size_cost * state.mask.sum((-1, -2))


def train_boundless(model: MLP, train: SiteData, val: SiteData, test: SiteData, cfg: DASConfig,
                    gen: torch.Generator, bcfg: BoundlessConfig = BoundlessConfig(),
                    progress: Progress | None = None,
                    first: torch.Tensor | None = None) -> BoundlessResult:
    """Uses cfg's map, restarts, das_steps, das_patience, das_lr and das_batch_size (not k:
    sizes are learned). `first`, if given, is restart 0's starting matrix (d, d)."""
    d, n_vars = train.base_h.shape[-1], train.source_h.shape[1]
    names = train.type_names[:n_vars]
    family = _IntervalFit(model, LearnedMap(d, cfg.restarts, cfg.map, gen, first),
                          Boundaries(cfg.restarts, n_vars, d // n_vars, bcfg.init_size), bcfg,
                          cfg.das_lr, cfg.das_steps, names)
    fitted = fit(model, family, train, val, budget(cfg), gen, progress, "Boundless DAS")
    sizes = fitted.best.mask.sum(-1).int()  # (r, V)
    best, restarts = restart_table(model, fitted, test, **{
        f"size_{n}": sizes[:, v].tolist() for v, n in enumerate(names)})
    rotation, inverse, hard = fitted.best.restart(best)
    return BoundlessResult(
        map=rotation, inverse=inverse, soft_mask=fitted.best.extra["soft"][best],
        var_mask=hard, sizes=tuple(sizes[best].tolist()), best_restart=best,
        test=evaluate(model, test, hard, rotation, inverse), restarts=restarts,
        history=fitted.history, converged=fitted.converged, steps_used=fitted.steps_used)
