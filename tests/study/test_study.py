"""The findings study on a tiny grid: every part has its columns, its numbers equal direct
calls of the engine, a resumed study recomputes nothing, and the CLI rejects bad input."""

import math

import pandas as pd
import pytest
import torch

from explorer import cli

from explorer.study import run as study_module
from explorer.analysis.geometry import probe_frame
from explorer.core.config import tiny
from explorer.analysis.diagnostics import oracle_table
from explorer.core.pairs import pair_set
from explorer.methods.steps import run_das
from explorer.store.tables import load_study
from explorer.study.run import study
from explorer.study.measure import StudyGrid
from explorer.analysis.subspaces import coordinate_blocks, principal_angles
from explorer.core.alignment import subspace
from explorer.runs.measure import ModelCache
from explorer.core.train import heldout_examples

BASE = tiny(train_steps=300, eval_size=256)
GRID = StudyGrid(activations=("relu",), seeds=(0,), search_sites=(0, 1), ks=(2,), lrs=(0.05,),
                 inits=("random", "identity"), restarts=2, das_steps=20, n_train_pairs=256,
                 n_val_pairs=128, n_test_pairs=256, n_search_pairs=64, map_sites=(1,),
                 map_k=2, illusion_sites=(1, 3), probe_examples=300, n_shuffles=1,
                 basin_degrees=(0.0, 90.0), basin_draws=1)
COLUMNS = {
    "probes": {"site", "variable", "labels", "accuracy", "network"},
    "search": {"site", "k", "lr", "init", "restart", "val_iia", "test_iia", "chosen", "target",
               "success", "angle_differences_V1", "angle_coordinates_V2"},
    "oracles": {"alignment", "k", "iia", "baseline"},
    "angles": {"comparison", "site", "k", "mean_degrees", "max_degrees"},
    "range": {"site", "k", "alignment", "frac_outside", "mahalanobis"},
    "illusion": {"site", "variable", "part", "dim", "iia"},
    "maps": {"site", "map", "k_V1", "k_V2", "iia"},
    "basin": {"degrees", "iia"},
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    parts = study(folder / "out", GRID, BASE, model_dir=folder / "models")
    cfg = GRID.config(BASE, "relu", 0)
    model, _ = ModelCache(folder / "models").get(cfg)
    return folder, parts, cfg, model


def test_every_part_has_its_columns_and_tags(ran):
    _, parts, _, _ = ran
    assert set(COLUMNS) <= set(parts)  # seed_angles needs two seeds
    for name, columns in COLUMNS.items():
        assert columns | {"activation", "seed", "task_accuracy"} <= set(parts[name].columns), name
        assert set(parts[name].activation) == {"relu"}
    assert set(parts["illusion"].part) == {"whole", "row", "null", "none"}  # 'null' is no NaN
    assert set(parts["maps"]["map"]) == {"orthogonal", "linear", "boundless"}


def test_numbers_equal_direct_engine_calls(ran):
    _, parts, cfg, model = ran
    pairs = pair_set(model, cfg, site=0)
    oracles = oracle_table(model, pairs.test, 4)
    pd.testing.assert_series_equal(parts["oracles"].iia, oracles.iia)
    search = parts["search"]
    assert (search[search.site == 0].target == oracles.iia.max()).all()
    assert (search.success == (search.test_iia >= search.target - GRID.tolerance)).all()
    one = cfg.with_values(site=0, k=2, das_lr=0.05, das_init="identity", restarts=1)
    das = run_das(model, one, pairs)
    row = search[(search.site == 0) & (search.init == "identity")]
    assert row.test_iia.item() == das.test.iia
    angle = principal_angles(subspace(das.map, das.var_mask, 0),
                             coordinate_blocks(4).subspace(0)).max()
    assert row.angle_coordinates_V1.item() == pytest.approx(math.degrees(angle), abs=1e-6)
    probes = probe_frame(model, heldout_examples(cfg, 300), 0, 1)
    trained = parts["probes"][parts["probes"].network == "trained"].reset_index(drop=True)
    pd.testing.assert_series_equal(trained.accuracy, probes.accuracy)
    basin = parts["basin"].set_index("degrees")
    assert basin.loc[0.0, "iia"] == pytest.approx(oracles.set_index("alignment").loc[
        "differences", "iia_V1"], abs=0.1)  # V1-only pairs of the test split
    chosen = search[(search.site == 1) & (search.init == "random") & search.chosen]
    orthogonal = parts["maps"][parts["maps"]["map"] == "orthogonal"]
    assert orthogonal.iia.item() == pytest.approx(
        run_das(model, cfg.with_values(site=1, k=2, das_lr=0.05, das_init="random"),
                pair_set(model, cfg.with_values(site=1))).test.iia)  # the maps part's DAS
    assert chosen.test_iia.item() == orthogonal.iia.item()
    assert (parts["maps"].k_V1 <= 8).all()


def test_resume_drops_unrecorded_rows_and_recomputes_nothing(ran, monkeypatch):
    folder, parts, _, _ = ran
    out = folder / "out"
    stray = parts["search"].head(2).assign(seed=7)  # a killed run's rows, never recorded
    stray.to_csv(out / "search.csv", mode="a", header=False, index=False)
    monkeypatch.setattr(study_module, "measure_model",
                        lambda *a, **k: pytest.fail("a recorded unit was recomputed"))
    messages = []
    again = study(out, GRID, BASE, model_dir=folder / "models",
                  progress=lambda frac, msg: messages.append(msg))
    assert messages[0] == "1/1 models done"
    for name in COLUMNS:
        pd.testing.assert_frame_equal(again[name], parts[name])
    assert len(load_study(out)["search"]) == len(parts["search"])


def test_seed_angles_between_identical_subspaces_are_zero():
    space = torch.linalg.qr(torch.randn(16, 2, generator=torch.Generator().manual_seed(0))).Q
    rows = study_module.seed_angle_rows({"relu/s0/k2/random/V1": space,
                                         "relu/s1/k2/random/V1": space @ torch.tensor(
                                             [[0.0, 1.0], [1.0, 0.0]])})
    assert len(rows) == 1 and rows[0]["max_degrees"] == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "--workers"), (["--activations", "relu,softsign"], "--activations"),
    (["--seeds", "0,-1"], "--seeds")])
def test_cli_rejects_bad_input_with_one_line(argv, message, capsys):
    assert cli.main(["study", "--out", "unused", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {message}")


def test_units_are_current_only_under_their_models_key(tmp_path):
    """A unit recorded under another model key (an earlier recipe), or under none (a file
    from before units had keys), is measured again, and its record goes; units the run does
    not cover keep theirs, whatever their key."""
    path = tmp_path / "units.csv"
    pd.DataFrame([{"activation": "relu", "seed": 0, "model": "new", "seconds": 1.0},
                  {"activation": "relu", "seed": 1, "model": "old", "seconds": 1.0},
                  {"activation": "tanh", "seed": 0, "model": "any", "seconds": 1.0}]
                 ).to_csv(path, index=False)
    keys = {("relu", 0): "new", ("relu", 1): "new"}
    kept = study_module.current_units(path, ["activation", "seed"], keys)
    assert kept == {("relu", 0), ("tanh", 0)}
    assert list(pd.read_csv(path).seed) == [0, 0]
    pd.DataFrame([{"activation": "relu", "seed": 0, "seconds": 1.0}]).to_csv(path, index=False)
    assert study_module.current_units(path, ["activation", "seed"], keys) == set()


def test_a_changed_recipe_measures_its_units_again(ran, tmp_path, monkeypatch):
    import shutil

    from explorer.core import recipes
    folder, _, _, _ = ran
    out = tmp_path / "out"
    shutil.copytree(folder / "out", out)
    old = recipes.RECIPES["relu"]
    monkeypatch.setitem(recipes.RECIPES, "relu", recipes.Recipe(old.lr, old.steps, old.version + 1))

    def measured(*args, **kwargs):
        raise RuntimeError("measured again")
    monkeypatch.setattr(study_module, "measure_model", measured)
    with pytest.raises(RuntimeError, match="measured again"):
        study(out, GRID, BASE, model_dir=tmp_path / "models")
