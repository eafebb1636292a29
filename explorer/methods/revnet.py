"""A non-linear alignment map: an orthogonal rotation followed by affine coupling blocks
(a RevNet, as in Sutter et al. 2025), whose hidden width h is the complexity dial.

    F(h) = C_B( ... C_1(h @ R))           R orthogonal (torch's parametrization, as DAS)
    C_b: split z into halves (A, B) (alternating which half is A);
         z_B <- z_B * exp(s(z_A)) + t(z_A),  z_A unchanged
         [s, t] = tanh(z_A W1 + b1) W2 + b2,  s squashed by tanh (scales in [1/e, e])
    F^-1 undoes the blocks in reverse, z_B <- (z_B - t(z_A)) * exp(-s(z_A)), then @ R^T.

The inverse is exact (up to float rounding), so the swap is done in F's output coordinates
and mapped back through F^-1 by the one interchange primitive (`core.interventions`).
Identity initialisation: W2 = b2 = 0, so every block starts as the identity and the map
starts as the rotation alone, i.e. as orthogonal DAS. Restarts are one batch: every
parameter has a leading restart dim, and `CouplingMap` acts on (..., m, d) like a stack of
matrices (the leading dims broadcast against the restarts).

`train_revnet` fits r restarts together with DAS's loss through the shared fitting loop
(`explorer.methods.fit`: best validation state per restart, step 0 included; patience;
converged / steps used), and the restart with the best of those is reported on the test
pairs. `revnet_das` gives the result as a `DASResult` whose `map` is the `CouplingMap`
(`inverse` None): the pipeline's `run_das` returns it for `map = revnet`, and every
consumer that needs a matrix (the closest-permutation snap, matrix heatmaps, CSV exports)
says "not applicable for a non-linear map" instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn
from torch.nn.utils.parametrizations import orthogonal

from explorer.core.config import REVNET_BLOCKS, DASConfig
from explorer.core.iia import IIA, SiteData, evaluate, intervened_logits
from explorer.core.interventions import block_mask
from explorer.core.models import MLP
from explorer.core.progress import Progress
from explorer.methods.das import DASResult, budget, start_names
from explorer.methods.fit import MapState, OnLog, fit, restart_table


@dataclass(frozen=True)
class CouplingMap:
    """The map's tensors: rotation (*B, d, d); blocks of (W1 (*B, a, h), b1 (*B, 1, h),
    W2 (*B, h, 2c), b2 (*B, 1, 2c)) with a, c the conditioning and transformed halves."""

    rotation: torch.Tensor
    blocks: tuple[tuple[torch.Tensor, ...], ...]
    units: torch.Tensor | None = None  # (*B, 1, h) 0/1: the hidden units each restart has
    # (None: all). A restart with none is the rotation alone (orthogonal DAS): see `RevNet`

    @property
    def d(self) -> int:
        return self.rotation.shape[-1]

    def _halves(self, b: int) -> tuple[slice, slice]:
        first, second = slice(0, self.d // 2), slice(self.d // 2, self.d)
        return (first, second) if b % 2 == 0 else (second, first)

    def _scale_shift(self, z_a: torch.Tensor, block) -> tuple[torch.Tensor, torch.Tensor]:
        w1, b1, w2, b2 = block
        hidden = torch.tanh(z_a @ w1 + b1)
        if self.units is None:
            s, t = (hidden @ w2 + b2).chunk(2, dim=-1)
        else:  # absent units read nothing; a restart without units is the identity block
            gate = self.units.amax(-1, keepdim=True)  # (*B, 1, 1)
            s, t = (((hidden * self.units) @ w2 + b2) * gate).chunk(2, dim=-1)
        return torch.tanh(s), t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """h (..., m, d) -> coordinates (..., m, d)."""
        z = x @ self.rotation
        for b, block in enumerate(self.blocks):
            cond, moved = self._halves(b)
            s, t = self._scale_shift(z[..., cond], block)
            z = _place(z, cond, moved, z[..., moved] * torch.exp(s) + t)
        return z

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """coordinates (..., m, d) -> h (..., m, d), exactly undoing `forward`."""
        z = y
        for b in reversed(range(len(self.blocks))):
            cond, moved = self._halves(b)
            s, t = self._scale_shift(z[..., cond], self.blocks[b])
            z = _place(z, cond, moved, (z[..., moved] - t) * torch.exp(-s))
        return z @ self.rotation.transpose(-1, -2)

    def take(self, restart: int) -> CouplingMap:
        """One restart's map, detached: tensors without the restart dim."""
        return CouplingMap(self.rotation[restart].detach(),
                           tuple(tuple(p[restart].detach() for p in blk) for blk in self.blocks),
                           None if self.units is None else self.units[restart])

    __getitem__ = take  # so a MapState of r restarts indexes it like a stack of matrices

    def detached(self) -> CouplingMap:
        """A snapshot: every tensor detached and copied (training moves the parameters)."""
        return CouplingMap(self.rotation.detach().clone(),
                           tuple(tuple(p.detach().clone() for p in b) for b in self.blocks),
                           self.units)

    def where(self, keep: torch.Tensor, other: CouplingMap) -> CouplingMap:
        """Per restart: this map where keep (r,) is true, else other's (fit.MapState.where)."""
        def pick(a, b):
            return torch.where(keep.view(-1, *[1] * (a.dim() - 1)), a, b)
        return CouplingMap(pick(self.rotation, other.rotation),
                           tuple(tuple(pick(p, q) for p, q in zip(mine, theirs))
                                 for mine, theirs in zip(self.blocks, other.blocks)),
                           None if self.units is None else pick(self.units, other.units))

    def tensors(self) -> dict[str, torch.Tensor]:
        """Named tensors, for a safetensors file: rotation, block<b>_<w1|b1|w2|b2>."""
        out = {"rotation": self.rotation.detach().contiguous()}
        for b, blk in enumerate(self.blocks):
            out.update({f"block{b}_{name}": p.detach().contiguous()
                        for name, p in zip(("w1", "b1", "w2", "b2"), blk)})
        if self.units is not None:
            out["units"] = self.units.contiguous()
        return out


def _place(z: torch.Tensor, cond: slice, moved: slice, new: torch.Tensor) -> torch.Tensor:
    """z with its `moved` half replaced (out of place, so autograd sees every block)."""
    parts = (z[..., cond], new) if cond.start == 0 else (new, z[..., cond])
    return torch.cat(parts, dim=-1)


class RevNet(nn.Module):
    """r restarts of the rotation + coupling map; `map()` gives the current `CouplingMap`.

    The rotation draws from `gen` exactly as `explorer.methods.das.LearnedMap` does (so the
    same generator gives DAS's starting rotations); the coupling's first layers draw from
    `coupling_gen`, its last layers start at zero (the identity).

    `widths` (one per restart) trains several settings of the dial as one batch: the
    couplings are `max(widths)` wide and restart i uses only its first widths[i] hidden
    units (a fixed 0/1 mask); width 0 is the rotation alone, i.e. orthogonal DAS."""

    def __init__(self, d: int, restarts: int, gen: torch.Generator, *, width: int = 8,
                 blocks: int = REVNET_BLOCKS, first: torch.Tensor | None = None,
                 coupling_gen: torch.Generator | None = None,
                 widths: tuple[int, ...] | None = None):
        super().__init__()
        if widths is not None:
            if len(widths) != restarts or min(widths) < 0:
                raise ValueError(f"need one width >= 0 per restart (got {widths})")
            width = max(max(widths), 1)
        if width < 1 or blocks < 1 or d < 2:
            raise ValueError(f"need width >= 1, blocks >= 1, d >= 2 (got {width}, {blocks}, {d})")
        self.units = None if widths is None else (
            torch.arange(width) < torch.tensor(widths)[:, None]).float().unsqueeze(1)
        start = torch.linalg.qr(torch.randn(restarts, d, d, generator=gen)).Q
        if first is not None:  # restart 0 starts from a given orthogonal matrix
            start[0] = first
        self.weight = nn.Parameter(start)
        orthogonal(self, "weight")
        cg = coupling_gen or _side_generator(gen)
        self.couplings = nn.ParameterList()
        for b in range(blocks):
            a = d // 2 if b % 2 == 0 else d - d // 2  # conditioning half's size
            c = d - a
            self.couplings.extend([
                nn.Parameter(torch.randn(restarts, a, width, generator=cg) / a ** 0.5),
                nn.Parameter(torch.zeros(restarts, 1, width)),
                nn.Parameter(torch.zeros(restarts, width, 2 * c)),
                nn.Parameter(torch.zeros(restarts, 1, 2 * c))])
        self.width, self.n_blocks = width, blocks

    def coupling_parameters(self) -> list[nn.Parameter]:
        return list(self.couplings)

    def map(self) -> CouplingMap:
        p = list(self.couplings)
        return CouplingMap(self.weight, tuple(tuple(p[4 * b:4 * b + 4])
                                              for b in range(self.n_blocks)), self.units)


def _side_generator(gen: torch.Generator) -> torch.Generator:
    """A stream derived from gen's seed without drawing from gen (its numbers stay DAS's)."""
    side = torch.Generator()
    side.manual_seed((gen.initial_seed() * 6364136223846793005 + 1442695040888963407) % 2**63)
    return side


@dataclass(frozen=True)
class RevNetResult:
    map: CouplingMap  # the chosen restart at its best validation state, no restart dim
    var_mask: torch.Tensor  # (V, d) block mask
    best_restart: int
    test: IIA  # the chosen map on the test pairs
    restarts: pd.DataFrame  # restart, start, val_iia, test_iia, best_step
    history: pd.DataFrame  # step, restart, loss, val_iia
    width: int
    blocks: int
    maps: CouplingMap  # every restart's kept map (a restart dim first)
    converged: bool  # no restart gained over the last das_patience steps
    steps_used: int  # training steps taken (at most das_steps)


class CouplingFit:
    """The RevNet map as a map family of the fitting loop: a fixed block mask; the
    rotation at das_lr, the couplings at their own lr."""

    logged = ()

    def __init__(self, model: MLP, net: RevNet, mask: torch.Tensor, lr: float, coupling_lr: float):
        self.model, self.net, self.lr, self.coupling_lr = model, net, lr, coupling_lr
        self.mask = mask.expand(net.weight.shape[0], *mask.shape)  # (r, V, d)

    def param_groups(self) -> list[dict]:
        return [{"params": [self.net.parametrizations.weight.original], "lr": self.lr},
                {"params": self.net.coupling_parameters(), "lr": self.coupling_lr}]

    def loss(self, batch: SiteData, step: int) -> tuple[torch.Tensor, dict]:
        logits = intervened_logits(self.model, batch, self.mask[0], self.net.map())  # (r, B)
        target = batch.counterfactual_label.float().expand_as(logits)
        return nn.functional.binary_cross_entropy_with_logits(
            logits, target, reduction="none").mean(-1), {}

    def state(self) -> MapState:
        with torch.no_grad():
            return MapState(self.net.map().detached(), None, self.mask)

    def columns(self, step: int, state: MapState) -> dict:
        return {}

    def score(self, val_iia: torch.Tensor, state: MapState) -> torch.Tensor:
        return val_iia


def train_revnet(model: MLP, train: SiteData, val: SiteData, test: SiteData, k: int,
                 cfg: DASConfig, gen: torch.Generator, *, width: int | None = None,
                 blocks: int = REVNET_BLOCKS, first: torch.Tensor | None = None,
                 first_name: str = "given", coupling_lr: float | None = None,
                 rotation_lr: float | None = None, progress: Progress | None = None,
                 on_log: OnLog | None = None) -> RevNetResult:
    """DAS with the RevNet map: cfg's restarts, das_steps (cap), das_patience, das_lr,
    das_batch_size and map_width (unless `width` is given). `first`, if given, is restart
    0's starting rotation. `coupling_lr` (default das_lr) is the couplings' Adam lr; 0
    freezes them at the identity, which is orthogonal DAS. `rotation_lr` (default das_lr)
    is the rotation's; 0 keeps it at its start (with `first` the identity: couplings
    alone, on the site's own units). `on_log` sees every validation round (`fit`)."""
    width = cfg.map_width if width is None else width
    d, n_vars = train.base_h.shape[-1], train.source_h.shape[1]
    net = RevNet(d, cfg.restarts, gen, width=width, blocks=blocks, first=first)
    mask = block_mask(k, n_vars, d)
    lr_c = cfg.das_lr if coupling_lr is None else coupling_lr
    lr_r = cfg.das_lr if rotation_lr is None else rotation_lr
    fitted = fit(model, CouplingFit(model, net, mask, lr_r, lr_c), train, val,
                 budget(cfg), gen, progress, f"DAS (RevNet h={width})", on_log)
    starts = start_names(cfg.restarts, first_name if first is not None else None)
    best, restarts = restart_table(model, fitted, test, start=starts)
    chosen = fitted.best.map.take(best)
    return RevNetResult(
        map=chosen, var_mask=mask, best_restart=best, test=evaluate(model, test, mask, chosen),
        restarts=restarts[["restart", "start", "val_iia", "test_iia", "best_step"]],
        history=fitted.history, width=width, blocks=blocks, maps=fitted.best.map,
        converged=fitted.converged, steps_used=fitted.steps_used)


def as_das_result(found: RevNetResult) -> DASResult:
    """The RevNet result in the pipeline's form: `map` is the CouplingMap, `inverse` None
    (the map inverts itself), `maps` every restart's kept CouplingMap."""
    return DASResult(map=found.map, inverse=None, var_mask=found.var_mask,
                     best_restart=found.best_restart, test=found.test, restarts=found.restarts,
                     history=found.history, maps=found.maps, converged=found.converged,
                     steps_used=found.steps_used)


def is_matrix(alignment_map) -> bool:
    """Whether a result's map is a matrix (orthogonal, linear) rather than a map object."""
    return isinstance(alignment_map, torch.Tensor)
