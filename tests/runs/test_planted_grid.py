"""runs.planted_grid's lookups and runs.planting's checkpoint bytes: which app configs the
shipped grid holds (the same network once the planting recipe is written out), the rows of
one network, and one piece of code for the bytes and the file."""

import pandas as pd
import torch

from tests.planted_support import fake_result, grid_csv_rows
from explorer.core.config import RunConfig
from explorer.runs import planted_grid
from explorer.runs.planting import load_planted, planted_bytes, save_planted
from explorer.store import checkpoints


def test_the_grid_holds_the_default_network_and_no_other_plant():
    cfg = RunConfig()
    assert planted_grid.grid_network(cfg, "rotated", 1, 4) == ("relu", 0)
    assert planted_grid.grid_network(cfg.with_values(activation="tanh", seed=4),
                                     "localist", 1, 4) == ("tanh", 4)
    # the widgets pointed at the grid network (recipe written out) still find it
    assert planted_grid.grid_network(cfg.with_values(train_steps=800, train_lr=6e-3),
                                     "rotated", 1, 4) == ("relu", 0)
    for other, plant in [(cfg, ("rotated", 1, 2)), (cfg, ("rotated", 2, 4)),
                         (cfg, ("none", 1, 4)), (cfg.with_values(seed=5), ("rotated", 1, 4)),
                         (cfg.with_values(activation="gelu"), ("rotated", 1, 4)),
                         (cfg.with_values(width=32), ("rotated", 1, 4)),
                         (cfg.with_values(entity_dim=8), ("rotated", 1, 4)),
                         (cfg.with_values(train_steps=900), ("rotated", 1, 4))]:
        assert planted_grid.grid_network(other, *plant) is None, (other.to_flat(), plant)


def test_recovery_rows_are_one_networks_planted_hypothesis_at_the_default_budget(tmp_path):
    grid_csv_rows().to_csv(tmp_path / "planted.csv", index=False)
    table = planted_grid.load(tmp_path)
    rows = planted_grid.recovery_rows(table, "relu", "rotated", 1)
    raw = pd.read_csv(tmp_path / "planted.csv")
    expected = raw[(raw.seed == 1) & (raw.hypothesis == "both") & (raw.curve.astype(str) == "False")]
    assert len(rows) == len(expected) == 5
    assert rows.iia.tolist() == expected.iia.tolist()
    assert rows.method.tolist() == expected.method.tolist()
    assert planted_grid.recovery_rows(table, "relu", "localist", 0).empty


def test_planted_bytes_are_the_saved_checkpoint_and_read_back(tmp_path):
    result = fake_result(RunConfig().with_values(site=1, k=2))
    data = planted_bytes(result)
    save_planted(tmp_path / "p.safetensors", result)
    assert (tmp_path / "p.safetensors").read_bytes() == data
    model, cfg, plant, meta = load_planted(tmp_path / "p.safetensors")
    assert cfg == result.config and plant.k == 2 and meta["planted"]["iia"] == 0.9912
    assert meta["metrics"]["task_accuracy"] == 0.9876
    for name, tensor in result.model.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor)
    assert checkpoints.from_bytes(data)[1] == result.config
