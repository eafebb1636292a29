"""The complexity dial in one fit: RevNet maps of several hidden widths (width 0: the rotation
alone, i.e. orthogonal DAS) trained as one batch, each width's best restart scored on the
test pairs (`analysis.complexity`, `analysis.court`).

    train_dial(model, train, val, test, k, cfg, gen, widths)  ->  DialFit
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.core.config import DASConfig
from explorer.core.iia import IIA, SiteData, evaluate
from explorer.core.interventions import block_mask
from explorer.core.models import MLP
from explorer.core.progress import Progress
from explorer.methods.das import budget
from explorer.methods.fit import fit
from explorer.methods.revnet import RevNet, CouplingFit

WIDTHS = (1, 2, 4, 8, 16)  # the complexity dial's usual settings


@dataclass(frozen=True)
class DialFit:
    """One batched fit of several settings of the dial (see `train_dial`)."""

    test: dict[int, IIA]  # width -> the best-validation restart of that width, on test pairs
    val_iia: dict[int, float]  # width -> that restart's validation IIA
    converged: bool
    steps_used: int


def train_dial(model: MLP, train: SiteData, val: SiteData, test: SiteData, k: int,
               cfg: DASConfig, gen: torch.Generator, widths: tuple[int, ...], *,
               first: torch.Tensor | None = None,
               progress: Progress | None = None) -> DialFit:
    """cfg.restarts restarts of every width in `widths` trained as one batch (width 0: the
    rotation alone, i.e. orthogonal DAS); restart 0 of each width starts at `first` if
    given. Per width, the restart with the best validation IIA is scored on the test pairs."""
    r, d, n_vars = cfg.restarts, train.base_h.shape[-1], train.source_h.shape[1]
    per = tuple(w for w in widths for _ in range(r))
    net = RevNet(d, len(per), gen, widths=per)
    if first is not None:
        with torch.no_grad():  # restart 0 of every width group starts at `first`
            start = net.weight.detach().clone()
            start[::r] = first
            net.weight = start
    mask = block_mask(k, n_vars, d)
    fitted = fit(model, CouplingFit(model, net, mask, cfg.das_lr, cfg.das_lr), train, val,
                 budget(cfg), gen, progress, "complexity dial")
    out, vals = {}, {}
    for g, width in enumerate(widths):
        best = g * r + int(fitted.best_val[g * r:(g + 1) * r].argmax())
        out[width] = evaluate(model, test, mask, fitted.best.map.take(best))
        vals[width] = float(fitted.best_val[best])
    return DialFit(out, vals, fitted.converged, fitted.steps_used)
