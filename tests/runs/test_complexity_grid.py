"""The shipped complexity sweep's table: each (activation, seed) block equals the dial's own
sweep of that model (explorer.runs.complexity.run), with the activation and seed named; and
the shipped table, where it exists, covers every shipped width-16 model at every site."""

from dataclasses import replace

import pandas as pd
import pytest

from explorer.analysis.complexity import DialSettings
from explorer.core.config import RunConfig
from explorer.runs import complexity
from explorer.runs.complexity_grid import ACTIVATIONS, OUT, SEEDS, grid_sweep

TINY = replace(DialSettings(), widths=(1,), das_steps=10, das_patience=10, restarts=1,
               n_train_pairs=128, n_val_pairs=64, n_test_pairs=128, n_entities=256)


def test_each_block_equals_the_sweep_of_that_model():
    base = RunConfig().with_values(train_steps=50, eval_size=256, width=8, layers=1, k=2)
    table = grid_sweep(base, TINY, activations=("relu", "tanh"), seeds=(0,), sites=(1,),
                       workers=1)
    for activation in ("relu", "tanh"):
        sweep, _, _ = complexity.run(base.with_values(activation=activation, seed=0), TINY,
                                     sites=(1,), workers=1)
        block = table[table.activation == activation].drop(
            columns=["activation", "seed", "model_source", "seconds"]).reset_index(drop=True)
        want = sweep.frame.drop(columns=["seconds"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(block, want)  # every number but the timings


@pytest.mark.skipif(not OUT.exists(), reason="pretrained/complexity.csv not generated")
def test_the_shipped_table_covers_every_model_and_site():
    table = pd.read_csv(OUT)
    assert set(table.activation) == set(ACTIVATIONS) and set(table.seed) == set(SEEDS)
    assert (table.groupby(["activation", "seed"]).site.nunique() == 4).all()
    assert set(table.network) == {"trained", "control"}


def test_a_block_of_a_retrained_model_is_swept_again(tmp_path, monkeypatch):
    """ship() keeps a block whose model_source names today's checkpoint of its (activation,
    seed) and sweeps the others again: here the tanh block names a file of another key."""
    from explorer.core.identity import model_file_name
    from explorer.runs import complexity_grid
    current = model_file_name(RunConfig().with_values(activation="relu", seed=0))
    old = pd.DataFrame([
        {"activation": "relu", "seed": 0, "iia": 0.5, "model_source": f"shipped checkpoint {current}"},
        {"activation": "tanh", "seed": 0, "iia": 0.7,
         "model_source": "shipped checkpoint tanh-w16-l3-s0-0000000000000000.safetensors"}])
    old.to_csv(tmp_path / "cx.csv", index=False)
    swept = []

    def sweep(progress=None, workers=2, points=()):
        swept.extend(points)
        return pd.DataFrame([{"activation": a, "seed": s, "iia": 0.9, "model_source": "x"}
                             for a, s in points])
    monkeypatch.setattr(complexity_grid, "grid_sweep", sweep)
    table = complexity_grid.ship(tmp_path / "cx.csv")
    assert ("relu", 0) not in swept and ("tanh", 0) in swept
    assert len(swept) == len(ACTIVATIONS) * len(SEEDS) - 1
    assert table.iloc[0].iia == 0.5 and list(table.activation[:len(SEEDS)]) == ["relu"] * 5
    assert (table[table.activation == "tanh"].iia == 0.9).all()
