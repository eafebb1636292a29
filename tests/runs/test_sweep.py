import pandas as pd
import pytest

from explorer.core.config import tiny
from explorer.core.pairs import pair_set
from explorer.methods.steps import run_das
from explorer.runs.sweep import expand_grid, parse_grid, plan, sweep
from explorer.runs.measure import ModelCache

BASE = tiny(train_steps=200, das_steps=30, restarts=1, n_train_pairs=256, n_val_pairs=128,
            n_test_pairs=256, n_search_pairs=128, eval_size=256)
GRID = {"k": [1, 2], "seed": [0, 1], "method": ["das", "neuron"]}


def test_grid_parsing_and_expansion():
    assert parse_grid(["k=1,2", "--layer=0,1"]) == {"k": ["1", "2"], "site": ["0", "1"]}
    assert len(expand_grid({"a": [1, 2], "b": [3, 4, 5]})) == 6
    with pytest.raises(ValueError, match="method"):
        plan({"method": ["telepathy"]}, BASE)
    with pytest.raises(ValueError, match="k"):
        plan({"k": [99]}, BASE)


def test_sweep_rows_match_a_direct_run_and_resume_after_a_kill(tmp_path):
    out = tmp_path / "s.csv"
    full = sweep(GRID, out, BASE)
    assert len(full) == 8 and full.key.is_unique
    # oracle: the same point computed directly with the engine
    row = full[(full.method == "das") & (full.k == 2) & (full.seed == 1)].iloc[0]
    cfg = BASE.with_values(k=2, seed=1)
    model, _ = ModelCache().get(cfg)
    assert row.iia == run_das(model, cfg, pair_set(model, cfg)).test.iia
    # a "killed" sweep: keep 3 recorded rows, rerun, and nothing recorded is lost or redone
    full.iloc[:3].to_csv(out, index=False)
    calls = []
    resumed = sweep(GRID, out, BASE, progress=lambda f, m: calls.append(m))
    assert calls[0] == "3/8 points done"
    assert len(resumed) == 8 and resumed.key.is_unique
    pd.testing.assert_frame_equal(resumed.iloc[:3], full.iloc[:3])
    merged = resumed.set_index("key").loc[full.key, ["iia"]]
    assert (merged.iia.values == full.iia.values).all()


def test_parallel_workers_give_the_same_numbers(tmp_path):
    serial = sweep({"k": [1, 2]}, tmp_path / "a.csv", BASE)
    parallel = sweep({"k": [1, 2]}, tmp_path / "b.csv", BASE, workers=2)
    key = ["k", "iia", "untrained_das_iia", "random_rotation_iia"]
    a = serial.sort_values("k")[key].reset_index(drop=True)
    b = parallel.sort_values("k")[key].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_ray_backend_on_a_local_instance(tmp_path):
    pytest.importorskip("ray")
    serial = sweep({"k": [1, 2]}, tmp_path / "a.csv", BASE)
    on_ray = sweep({"k": [1, 2]}, tmp_path / "r.csv", BASE, backend="ray")
    assert sorted(on_ray.iia) == sorted(serial.iia)
