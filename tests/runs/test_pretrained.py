"""The shipped pretrained/ folder: every checkpoint loads and still scores what it records;
the results table is complete; one entry regenerates bit for bit (slow)."""

from pathlib import Path

import pandas as pd
import pytest
from safetensors.torch import load_file

from explorer.store import checkpoints
from explorer.core.config import RunConfig
from explorer.runs.pretrain import COMMAND, PretrainGrid, points
from explorer.core.identity import point_key
from tests.shipped_support import BASE
from explorer.runs.sweep import run_chunk
from explorer.core.train import heldout_examples, task_accuracy

FOLDER = Path(__file__).resolve().parents[2] / "pretrained"
pytestmark = pytest.mark.skipif(not (FOLDER / "results.csv").exists(),
                                reason="pretrained/ not generated")


def _checkpoints():
    return sorted((FOLDER / "models").glob("*.safetensors"))


def test_every_checkpoint_reloads_and_rechecks_its_accuracy():
    grid = PretrainGrid()
    paths = _checkpoints()
    assert len(paths) == len(grid.activations) * len(grid.widths) * len(grid.seeds)
    for path in paths:
        model, cfg, meta = checkpoints.load(path)
        assert meta["command"] == COMMAND
        recorded = meta["metrics"]["task_accuracy"]
        assert task_accuracy(model, heldout_examples(cfg)) == recorded, path.name


def test_results_cover_the_grid_and_rotations_are_orthogonal():
    results = pd.read_csv(FOLDER / "results.csv")
    expected = {point_key(cfg, method) for cfg, method in points(PretrainGrid(), BASE)}
    assert set(results.key) == expected
    das = results[results.method == "das"]
    assert das[["iia", "untrained_das_iia", "random_rotation_iia", "closest_permutation_iia",
                "full_layer_iia"]].notna().all().all()
    rotations = load_file(FOLDER / "rotations.safetensors")
    assert set(rotations) == set(das.key)  # every DAS point, every k
    import torch
    for R in list(rotations.values())[:20]:
        torch.testing.assert_close(R @ R.T, torch.eye(R.shape[0]), atol=1e-4, rtol=0)


@pytest.mark.slow
def test_one_entry_regenerates_identically(tmp_path):
    results = pd.read_csv(FOLDER / "results.csv").set_index("key")
    cfg = RunConfig().with_values(activation="relu", seed=1, site=1)
    rows = run_chunk([(cfg.to_flat(), "das"), (cfg.to_flat(), "neuron")], str(tmp_path))
    for row in rows:
        shipped = results.loc[row["key"]]
        for column in ("task_accuracy", "iia", "untrained_das_iia",
                       "random_features_das_iia", "closest_permutation_iia", "steps_used"):
            if column in row and not pd.isna(shipped[column]):
                assert row[column] == shipped[column], column
