"""Search success against budget: the stacked network equals its models one by one, the
success curve equals a hand count, an exact start succeeds at budget 0, a network whose
output ignores the swap never succeeds, and the study part resumes without recomputing."""

import pandas as pd
import pytest
import torch

from explorer.core.config import RunConfig, tiny
from explorer.core.handbuilt import equality_network
from explorer.core.models import MLP
from explorer.core.pairs import pair_set
from explorer.core.rng import generator
from explorer.core.stacked import StackedMLP
from explorer.methods.das import train_das
from explorer.study import run as study_run
from explorer.study.budget import BudgetGrid, budget_rows, oracle_target, success_curve

INPUT = RunConfig().with_values(site=0, k=8, restarts=4, das_steps=20, n_train_pairs=256,
                                n_val_pairs=256, n_test_pairs=256, n_search_pairs=64)


def _models(n: int) -> list[MLP]:
    cfg = RunConfig().model
    return [MLP(16, cfg, generator(i, "stacked-test")).requires_grad_(False) for i in range(n)]


def constant_network() -> MLP:
    """Output 1 whatever the input: no swap can change what it says."""
    model = MLP(16, RunConfig().model, generator(0, "constant"))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.readout.bias.fill_(1.0)
    return model.requires_grad_(False)


@pytest.mark.parametrize("site", [0, 1])
def test_stacked_network_equals_each_model_on_its_rows(site):
    models = _models(3)
    h = torch.randn(3 * 2, 5, 16, generator=generator(0, "h"))  # 2 restarts per model
    want = torch.cat([m.forward_from(site, h[2 * i:2 * i + 2]) for i, m in enumerate(models)])
    torch.testing.assert_close(StackedMLP(models).forward_from(site, h), want)
    shared = h[0]  # (n, d): the models' mean logits
    torch.testing.assert_close(StackedMLP(models).forward_from(site, shared),
                               torch.stack([m.forward_from(site, shared) for m in models]).mean(0))


def test_success_curve_equals_a_hand_count():
    """Model 0 (target 1.0): restart 0 climbs to 0.99 at step 20, restart 1 peaks at 0.97
    at step 10 and falls back; model 1's oracle is no better than doing nothing."""
    val = {0: [0.5, 0.7, 0.99], 1: [0.5, 0.97, 0.6], 2: [0.5, 0.9, 0.99], 3: [0.5, 0.5, 0.5]}
    history = pd.DataFrame([{"step": 10 * i, "restart": r, "val_iia": v}
                            for r, vs in val.items() for i, v in enumerate(vs)])
    models = pd.DataFrame({"model": [0, 1], "seed": [3, 4], "target": [1.0, 0.99],
                           "baseline": [0.5, 0.95], "restarts": [2, 2]})
    curve = success_curve(history, models, (0, 10, 15, 20), tolerance=0.02, margin=0.1)
    assert len(curve) == 2 * 2 * 4
    at = curve.set_index(["seed", "restart", "step"])
    assert at.loc[(3, 1, 20), "best_val_iia"] == 0.97 and at.loc[(3, 1, 20), "val_iia"] == 0.6
    assert at.loc[(3, 1, 15), "val_iia"] == 0.97  # the last logged step <= 15
    assert at.loc[3].success.tolist() == [False, False, False, True,  # restart 0
                                          False, False, False, False]  # 0.97 < 1.0 - 0.02
    assert not at.loc[4].success.any()  # 0.99 reached, but the oracle ties doing nothing


def test_an_exact_start_succeeds_at_budget_zero():
    """The hand-built network solves the task exactly; restart 0 starts at the identity, the
    exact (a, b) coordinate alignment at k = 8, so it succeeds before any step."""
    models = [equality_network(), equality_network()]
    cfg = INPUT.with_values(restarts=4)  # 2 per model
    pairs = pair_set(models[0], cfg)
    das = train_das(StackedMLP(models), pairs.train, pairs.val, pairs.test, 8, cfg.das,
                    generator(0, "exact"), first=torch.eye(16), log_every=10)
    target, baseline = oracle_target(models[0], pairs.val, 4)
    assert target == 1.0 and baseline < 0.6
    table = pd.DataFrame({"model": [0, 1], "seed": [0, 1], "target": target,
                          "baseline": baseline, "restarts": 2})
    curve = success_curve(das.history, table, (0, 20), 0.02, 0.1).set_index(
        ["seed", "restart", "step"])
    assert curve.loc[(0, 0, 0), "success"] and curve.loc[(0, 0, 0), "val_iia"] == 1.0
    assert not curve.loc[(1, 0, 0), "success"]  # a random start is far from the answer


def test_a_network_that_ignores_the_swap_never_succeeds():
    grid = BudgetGrid(seeds=(0, 1), restarts=2, steps=20, log_every=10, budgets=(0, 10))
    cfg = grid.config(INPUT, "relu", "orthogonal", 8)
    rows = pd.DataFrame(budget_rows([constant_network()] * 2, [0.5, 0.5], cfg, grid))
    assert len(rows) == 2 * 2 * 3 and sorted(set(rows.step)) == [0, 10, 20]
    assert (rows.target == rows.baseline).all()  # every swap scores what doing nothing does
    assert not rows.success.any()
    last = rows[rows.step == 20]
    assert last.test_iia.notna().all() and rows[rows.step < 20].test_iia.isna().all()


def test_budget_part_runs_and_resumes_without_recomputing(tmp_path, monkeypatch):
    grid = BudgetGrid(activations=("relu",), seeds=(0,), settings=(("orthogonal", 8),),
                      restarts=2, steps=20, log_every=10, budgets=(0, 10))
    base = tiny(train_steps=30, eval_size=256)
    frame = study_run.budget_study(tmp_path / "out", grid, base, model_dir=tmp_path / "models")
    assert len(frame) == 1 * 2 * 3
    assert {"activation", "seed", "map", "k", "restart", "step", "best_val_iia", "target",
            "success", "test_iia", "task_accuracy"} <= set(frame.columns)
    pd.DataFrame(frame.head(2).assign(map="linear")).to_csv(  # a killed run's rows
        tmp_path / "out" / "budget.csv", mode="a", header=False, index=False)
    monkeypatch.setattr(study_run, "budget_rows",
                        lambda *a, **k: pytest.fail("a recorded unit was recomputed"))
    again = study_run.budget_study(tmp_path / "out", grid, base, model_dir=tmp_path / "models")
    pd.testing.assert_frame_equal(again, frame)
