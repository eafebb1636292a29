"""The one restart-batched fitting loop every learned map of a site shares (DAS's orthogonal
and general linear maps, Boundless DAS, and any later map family).

    fit(model, family, train, val, budget, gen)  ->  Fitted

r restarts train together as one batch: Adam on the family's parameters, minibatches drawn
from the passed generator, and every `eval_every` steps each restart's validation IIA in
its reported form (hard masks). Each restart keeps the state with the best validation IIA
seen, step 0 included (on a tie the later state), so a search started at a good solution
never ends below it on validation. The budget is adaptive: training stops once no restart
has gained on its best validation IIA for `patience` steps, or at the cap `steps`; the result
records the steps used and whether it converged (the last `patience` steps brought no gain).
A gain is a new best by at least `min_gain_pairs` more validation pairs right: a plateau's
noise keeps setting tiny records, and a real jump is far larger (the kept state follows
every record, however small).

A map family gives the loop: `param_groups()` for Adam, `loss(batch, step)` (a per-restart
loss (r,) and named per-restart values to log), `state()`, the detached reported form of
every restart (a `MapState`: maps, inverses, hard masks), `columns(step, state)`, more values
to log, and `score(val_iia, state)`, what "best" means: validation IIA itself for DAS;
Boundless DAS charges each coordinate a little, as its loss does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import pandas as pd
import torch

from explorer.core.iia import SiteData, intervened_logits
from explorer.core.models import MLP
from explorer.core.optim import Adam
from explorer.core.progress import Progress

EVAL_EVERY = 50  # steps between validation evaluations (and history rows)


@dataclass(frozen=True)
class MapState:
    """The reported form of r restarts: r' = h @ map, swapped under mask, mapped back."""

    map: torch.Tensor  # (r, d, d), or an invertible map object of r restarts (see below)
    inverse: torch.Tensor | None  # (r, d, d); None for a map object (it inverts itself)
    mask: torch.Tensor  # (r, V, d) hard 0/1 masks
    extra: dict[str, torch.Tensor] = field(default_factory=dict)  # more per-restart tensors

    def where(self, keep: torch.Tensor, other: "MapState") -> "MapState":
        """Per restart: this state where keep (r,) is true, else other's. A map object
        (e.g. `explorer.methods.revnet.CouplingMap`) picks with its own `where`."""
        def pick(a, b):
            if a is None or not torch.is_tensor(a):
                return None if a is None else a.where(keep, b)
            return torch.where(keep.view(-1, *[1] * (a.dim() - 1)), a, b)
        return MapState(pick(self.map, other.map), pick(self.inverse, other.inverse),
                        pick(self.mask, other.mask),
                        {k: pick(v, other.extra[k]) for k, v in self.extra.items()})

    def restart(self, i: int) -> tuple:
        """(map, inverse or None, mask) of restart i, without the restart dim."""
        inverse = None if self.inverse is None else self.inverse[i]
        return self.map[i], inverse, self.mask[i]


# what a live view is given after each validation round (step 0 included): that round's
# history rows, the kept states, their scores and the steps they are from (`das.publisher`)
OnLog = Callable[[list[dict], MapState, torch.Tensor, torch.Tensor], None]


class Family(Protocol):
    """A learned map family, as the loop sees it."""

    logged: tuple[str, ...]  # names of the extra values `loss` returns, in history order

    def param_groups(self) -> list[dict]: ...

    def loss(self, batch: SiteData, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...

    def state(self) -> MapState: ...

    def columns(self, step: int, state: MapState) -> dict[str, torch.Tensor | float]: ...

    def score(self, val_iia: torch.Tensor, state: MapState) -> torch.Tensor: ...


@dataclass(frozen=True)
class Budget:
    steps: int  # the cap
    batch_size: int
    patience: int  # stop once no restart gained for this many steps
    eval_every: int = EVAL_EVERY
    min_gain_pairs: int = 4  # a gain: this many more validation pairs right (kept state: any)


@dataclass(frozen=True)
class Fitted:
    best: MapState  # every restart at its best validation score
    best_val: torch.Tensor  # (r,) validation IIA of the kept states
    best_score: torch.Tensor  # (r,) their score (= best_val for DAS)
    best_step: torch.Tensor  # (r,) the step each restart's kept state is from
    steps_used: int
    converged: bool  # no restart gained over the last `patience` steps
    history: pd.DataFrame  # step, restart, loss, <logged>, <columns>, val_iia


@torch.no_grad()
def iia_per_restart(model: MLP, data: SiteData, state: MapState) -> torch.Tensor:
    """IIA of every restart's state on the data: (r,)."""
    pred = intervened_logits(model, data, state.mask, state.map, state.inverse) > 0  # (r, n)
    return (pred == data.counterfactual_label).float().mean(-1)


def _rows(family: Family, step: int, state: MapState, val_iia: torch.Tensor,
          loss: torch.Tensor | None, logged: dict[str, torch.Tensor]) -> list[dict]:
    values = {"loss": loss, **{name: logged.get(name) for name in family.logged},
              **family.columns(step, state), "val_iia": val_iia}

    def cell(value, r):
        if value is None:
            return float("nan")
        return float(value[r]) if torch.is_tensor(value) and value.dim() else float(value)
    return [{"step": step, "restart": r, **{k: cell(v, r) for k, v in values.items()}}
            for r in range(len(val_iia))]


def fit(model: MLP, family: Family, train: SiteData, val: SiteData, budget: Budget,
        gen: torch.Generator, progress: Progress | None = None, label: str = "DAS",
        on_log: OnLog | None = None) -> Fitted:
    """The loop (module docstring); `on_log`, if given, sees every validation round."""
    opt = Adam(family.param_groups())
    best = family.state()
    best_val = iia_per_restart(model, val, best)
    best_score = family.score(best_val, best)
    best_step = torch.zeros(len(best_val), dtype=torch.long)
    rows, improved_at, step = _rows(family, 0, best, best_val, None, {}), 0, 0
    if on_log:
        on_log(list(rows), best, best_score, best_step)
    gain = budget.min_gain_pairs / len(val)
    for step in range(1, budget.steps + 1):
        idx = torch.randint(len(train), (budget.batch_size,), generator=gen)
        loss, logged = family.loss(train.take(idx), step)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if step % budget.eval_every and step != budget.steps:
            continue
        state = family.state()
        val_iia = iia_per_restart(model, val, state)
        score = family.score(val_iia, state)
        if (score >= best_score + gain - 1e-9).any():  # a new best by a real margin
            improved_at = step
        keep = score >= best_score
        best, best_val = state.where(keep, best), torch.where(keep, val_iia, best_val)
        best_score = torch.where(keep, score, best_score)
        best_step = torch.where(keep, step, best_step)
        new = _rows(family, step, state, val_iia, loss.detach(),
                    {k: v.detach() for k, v in logged.items()})
        rows += new
        if on_log:
            on_log(new, best, best_score, best_step)
        if progress:
            progress(step / budget.steps, f"{label} step {step}/{budget.steps}")
        if step - improved_at >= budget.patience:
            break
    if progress:
        progress(1.0, f"{label}: {step} steps")
    return Fitted(best, best_val, best_score, best_step, step,
                  step - improved_at >= budget.patience, pd.DataFrame(rows))


def restart_table(model: MLP, fitted: Fitted, test: SiteData,
                  **extra: list) -> tuple[int, pd.DataFrame]:
    """The chosen restart (best validation score; the first on a tie) and one row per restart:
    restart, val_iia, test_iia, best_step, and any extra per-restart columns."""
    test_iia = iia_per_restart(model, test, fitted.best)
    table = pd.DataFrame({"restart": range(len(test_iia)), "val_iia": fitted.best_val.tolist(),
                          "test_iia": test_iia.tolist(), "best_step": fitted.best_step.tolist(),
                          **extra})
    return int(fitted.best_score.argmax()), table
