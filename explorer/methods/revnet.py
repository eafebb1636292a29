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

`train_revnet` fits r restarts together with DAS's loss and keeps, per restart, the state of
best validation IIA; the restart with the best of those is reported on the test pairs.
(It is its own loop until the shared fitting loop of `explorer.methods` takes every map.)
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

WIDTHS = (1, 2, 4, 8, 16)  # the complexity dial's usual settings


@dataclass(frozen=True)
class CouplingMap:
    """The map's tensors: rotation (*B, d, d); blocks of (W1 (*B, a, h), b1 (*B, 1, h),
    W2 (*B, h, 2c), b2 (*B, 1, 2c)) with a, c the conditioning and transformed halves."""

    rotation: torch.Tensor
    blocks: tuple[tuple[torch.Tensor, ...], ...]

    @property
    def d(self) -> int:
        return self.rotation.shape[-1]

    def _halves(self, b: int) -> tuple[slice, slice]:
        first, second = slice(0, self.d // 2), slice(self.d // 2, self.d)
        return (first, second) if b % 2 == 0 else (second, first)

    def _scale_shift(self, z_a: torch.Tensor, block) -> tuple[torch.Tensor, torch.Tensor]:
        w1, b1, w2, b2 = block
        s, t = (torch.tanh(z_a @ w1 + b1) @ w2 + b2).chunk(2, dim=-1)
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
                           tuple(tuple(p[restart].detach() for p in blk) for blk in self.blocks))


def _place(z: torch.Tensor, cond: slice, moved: slice, new: torch.Tensor) -> torch.Tensor:
    """z with its `moved` half replaced (out of place, so autograd sees every block)."""
    parts = (z[..., cond], new) if cond.start == 0 else (new, z[..., cond])
    return torch.cat(parts, dim=-1)


class RevNet(nn.Module):
    """r restarts of the rotation + coupling map; `map()` gives the current `CouplingMap`.

    The rotation draws from `gen` exactly as `explorer.methods.das.LearnedMap` does (so the
    same generator gives DAS's starting rotations); the coupling's first layers draw from
    `coupling_gen`, its last layers start at zero (the identity)."""

    def __init__(self, d: int, restarts: int, gen: torch.Generator, *, width: int = 8,
                 blocks: int = 2, first: torch.Tensor | None = None,
                 coupling_gen: torch.Generator | None = None):
        super().__init__()
        if width < 1 or blocks < 1 or d < 2:
            raise ValueError(f"need width >= 1, blocks >= 1, d >= 2 (got {width}, {blocks}, {d})")
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
                                              for b in range(self.n_blocks)))


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
    restarts: pd.DataFrame  # restart, best_step, val_iia, test_iia
    history: pd.DataFrame  # step, restart, loss, val_iia
    width: int
    blocks: int


@torch.no_grad()
def _val_iia(model: MLP, data: SiteData, mask: torch.Tensor, fmap: CouplingMap) -> torch.Tensor:
    pred = intervened_logits(model, data, mask, fmap) > 0  # (r, n)
    return (pred == data.counterfactual_label).float().mean(-1)


def train_revnet(model: MLP, train: SiteData, val: SiteData, test: SiteData, k: int,
                 cfg: DASConfig, gen: torch.Generator, *, width: int = 8, blocks: int = 2,
                 first: torch.Tensor | None = None, coupling_lr: float | None = None,
                 log_every: int = 50) -> RevNetResult:
    """DAS with the RevNet map: cfg's restarts, das_steps, das_lr, das_batch_size.
    `coupling_lr` (default das_lr) is the couplings' Adam lr; 0 freezes them at the
    identity, which is orthogonal DAS."""
    d, n_vars = train.base_h.shape[-1], train.source_h.shape[1]
    net = RevNet(d, cfg.restarts, gen, width=width, blocks=blocks, first=first)
    mask = block_mask(k, n_vars, d)
    lr_c = cfg.das_lr if coupling_lr is None else coupling_lr
    opt = torch.optim.Adam([{"params": [net.parametrizations.weight.original], "lr": cfg.das_lr},
                            {"params": net.coupling_parameters(), "lr": lr_c}])
    target, best = train.counterfactual_label.float(), _Best(net)
    rows = best.update(0, None, _val_iia(model, val, mask, net.map()))
    for step in range(1, cfg.das_steps + 1):
        idx = torch.randint(len(train), (cfg.das_batch_size,), generator=gen)
        logits = intervened_logits(model, train.take(idx), mask, net.map())  # (r, B)
        loss = nn.functional.binary_cross_entropy_with_logits(
            logits, target[idx].expand_as(logits), reduction="none").mean(-1)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if step % log_every == 0 or step == cfg.das_steps:
            rows += best.update(step, loss.detach(), _val_iia(model, val, mask, net.map()))
    return _result(model, test, mask, best, pd.DataFrame(rows), width, blocks)


class _Best:
    """Per restart: the best validation IIA so far, its step and its map's tensors."""

    def __init__(self, net: RevNet):
        self.net, self.val, self.step, self.state = net, None, None, None

    def update(self, step: int, loss, val_iia: torch.Tensor) -> list[dict]:
        with torch.no_grad():
            current = self.net.map()
            snap = (current.rotation.detach().clone(),
                    tuple(tuple(p.detach().clone() for p in b) for b in current.blocks))
        if self.val is None:
            self.val, self.step, self.state = val_iia.clone(), [step] * len(val_iia), snap
        better = val_iia > self.val
        for r in better.nonzero().flatten().tolist():
            self.val[r], self.step[r] = val_iia[r], step
            self.state[0][r] = snap[0][r]
            for b, blk in enumerate(self.state[1]):
                for i, p in enumerate(blk):
                    p[r] = snap[1][b][i][r]
        return [{"step": step, "restart": r,
                 "loss": float("nan") if loss is None else float(loss[r]),
                 "val_iia": float(val_iia[r])} for r in range(len(val_iia))]

    def restart_map(self, r: int) -> CouplingMap:
        return CouplingMap(*self.state).take(r)


def _result(model, test, mask, best: _Best, history, width, blocks) -> RevNetResult:
    maps = [best.restart_map(r) for r in range(len(best.val))]
    test_iia = [float(_val_iia(model, test, mask, m)) for m in maps]
    chosen = int(best.val.argmax())
    restarts = pd.DataFrame({"restart": range(len(maps)), "best_step": best.step,
                             "val_iia": best.val.tolist(), "test_iia": test_iia})
    return RevNetResult(map=maps[chosen], var_mask=mask, best_restart=chosen,
                        test=evaluate(model, test, mask, maps[chosen]), restarts=restarts,
                        history=history, width=width, blocks=blocks)
