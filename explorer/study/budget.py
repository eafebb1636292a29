"""Search success against budget at the input: is "not found" a fact or a short search?

At the input exact alignments exist (`analysis.subspaces.input_oracles`), so success has an
oracle. One long random-start DAS run per (activation, map, k) trains `restarts` restarts on
each of the activation's model seeds together (`core.stacked.StackedMLP`: one tensor batch,
the per-step overhead paid once) and logs every restart's validation IIA every `log_every`
steps; the whole success-vs-budget curve comes from that one log:

    best_val_iia(B) = the restart's best validation IIA at any logged step <= B
    success(B)      = best_val_iia(B) >= target - tolerance, where target is the exact
                      oracle's IIA on the same validation pairs for that model, and the
                      oracle beats doing nothing (target - tolerance > baseline + margin;
                      on a network whose output ignores the swap nothing can succeed)

Rows (budget.csv, one per model seed x restart x budget): activation, seed, map, k, restart,
step, val_iia (at that step), best_val_iia, target, baseline, success, task_accuracy; at the
last step also test_iia (the restart's final state on the test pairs) and target_test (the
oracle on them). Pairs depend on the first seed only: at the input the states are the inputs
and the labels come from the causal model, so every model is scored on the same pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from explorer.core.config import RunConfig
from explorer.core.iia import SiteData, evaluate
from explorer.core.models import MLP
from explorer.core.pairs import pair_set
from explorer.core.rng import generator
from explorer.core.stacked import StackedMLP
from explorer.analysis.subspaces import input_oracles
from explorer.methods.das import train_das

SETTINGS = (("orthogonal", 8), ("orthogonal", 4), ("linear", 4))


@dataclass(frozen=True)
class BudgetGrid:
    activations: tuple[str, ...] = ("relu", "sigmoid", "tanh", "gelu")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    settings: tuple[tuple[str, int], ...] = SETTINGS  # (map, k)
    restarts: int = 8  # per model seed
    steps: int = 15_000
    log_every: int = 100
    lr: float = 0.01
    budgets: tuple[int, ...] = (0, 100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 4000,
                                5000, 6000, 7000, 8000, 10_000, 12_000, 15_000)
    n_train_pairs: int = 2048
    n_val_pairs: int = 1024
    n_test_pairs: int = 1024
    tolerance: float = 0.02
    margin: float = 0.1

    def points(self) -> tuple[int, ...]:
        """The budgets reported: those within the run, and the run's full length."""
        return tuple(sorted({b for b in self.budgets if b <= self.steps} | {self.steps}))

    def config(self, base: RunConfig, activation: str, map_name: str, k: int) -> RunConfig:
        return base.with_values(activation=activation, seed=self.seeds[0], site=0, k=k,
                                map=map_name, das_init="random", das_lr=self.lr,
                                restarts=self.restarts * len(self.seeds), das_steps=self.steps,
                                das_patience=self.steps,  # the whole budget: no early stop
                                n_train_pairs=self.n_train_pairs, n_val_pairs=self.n_val_pairs,
                                n_test_pairs=self.n_test_pairs)


@torch.no_grad()
def oracle_target(model: MLP, data: SiteData, entity_dim: int) -> tuple[float, float]:
    """(best exact input oracle's IIA, no-intervention baseline) of one model on the data."""
    n_vars = data.source_h.shape[1]
    best = max(evaluate(model, data, o.var_mask, o.map).iia
               for o in input_oracles(entity_dim, n_vars))
    baseline = float(((model.forward_from(0, data.base_h) > 0)
                      == data.counterfactual_label).float().mean())
    return best, baseline


def success_curve(history: pd.DataFrame, models: pd.DataFrame, budgets: tuple[int, ...],
                  tolerance: float, margin: float) -> pd.DataFrame:
    """history: step, restart, val_iia (every logged step; restart = model x restarts + r);
    models: model, seed, target, baseline, restarts (per model). One row per model seed x
    restart x budget with best_val_iia and success (see the module docstring)."""
    per_model = int(models.restarts.iloc[0])
    h = history.sort_values(["restart", "step"]).copy()
    h["best_val_iia"] = h.groupby("restart").val_iia.cummax()
    h["model"], h["restart"] = h.restart // per_model, h.restart % per_model
    at = [h[h.step <= b].groupby(["model", "restart"]).tail(1).assign(step=b) for b in budgets]
    rows = pd.concat(at, ignore_index=True).merge(models.drop(columns="restarts"), on="model")
    threshold = rows.target - tolerance
    rows["success"] = (rows.best_val_iia >= threshold) & (threshold > rows.baseline + margin)
    columns = ["seed", "restart", "step", "val_iia", "best_val_iia", "target", "baseline",
               "success"]
    return rows.sort_values(["seed", "restart", "step"])[columns].reset_index(drop=True)


def budget_rows(models: list[MLP], accuracies: list[float], cfg: RunConfig,
                grid: BudgetGrid) -> list[dict]:
    """One stacked DAS run (every seed's restarts) at cfg's map and k: its curve rows."""
    pairs = pair_set(models[0], cfg)  # site 0: the same pairs for every model
    entity_dim, k = cfg.task.entity_dim, cfg.das.k
    gen = generator(cfg.seed, "study-budget", cfg.model.activation, cfg.das.map, k)
    das = train_das(StackedMLP(models), pairs.train, pairs.val, pairs.test, k, cfg.das, gen,
                    log_every=grid.log_every)
    targets = [oracle_target(m, pairs.val, entity_dim) for m in models]
    table = pd.DataFrame({"model": range(len(models)), "seed": grid.seeds[:len(models)],
                          "target": [t for t, _ in targets],
                          "baseline": [b for _, b in targets], "restarts": grid.restarts})
    curve = success_curve(das.history, table, grid.points(), grid.tolerance, grid.margin)
    final = das.restarts.assign(seed=lambda f: f.restart // grid.restarts,
                                restart=lambda f: f.restart % grid.restarts)
    final["seed"] = final.seed.map(dict(enumerate(grid.seeds)))
    final["target_test"] = final.seed.map(
        {s: oracle_target(m, pairs.test, entity_dim)[0] for s, m in zip(grid.seeds, models)})
    final = final.drop(columns="val_iia").assign(step=grid.steps)
    curve = curve.merge(final, on=["seed", "restart", "step"], how="left")
    accuracy = dict(zip(grid.seeds, accuracies))
    curve = curve.assign(activation=cfg.model.activation, map=cfg.das.map, k=k,
                         task_accuracy=curve.seed.map(accuracy))
    first = ["activation", "seed", "task_accuracy", "map", "k"]
    return curve[first + [c for c in curve.columns if c not in first]].to_dict("records")
