"""pretrain's rotation fill: a DAS point of the table whose rotation is stored nowhere is
measured again from its checkpoint, and its recomputed row must equal the recorded one.
Oracle: the rotation the first pretrain stored (the engine is deterministic). Control: a
recorded row that no longer matches (a stale table) stops pretrain instead of being packed."""

import json
import shutil

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from explorer.core.config import tiny
from explorer.runs.pretrain import PretrainGrid, pretrain

GRID = PretrainGrid(activations=("relu",), widths=(16,), seeds=(0,), ks=(1, 8),
                    control_ks=(8,), methods=("das",))
BASE = tiny(layers=1, das_steps=60, das_patience=30)


def _drop(folder, key):
    packed = folder / "rotations.safetensors"
    tensors = load_file(packed)
    kept = tensors.pop(key)
    save_file(tensors, packed)
    return kept


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pretrained")
    results = pretrain(folder, GRID, workers=1, base=BASE)
    return folder, results


def test_every_das_point_gets_its_rotation(shipped):
    folder, results = shipped
    assert set(load_file(folder / "rotations.safetensors")) == set(results.key)
    assert set(results.k) == {1, 8}


def test_a_missing_rotation_is_measured_again_and_equals_the_first(shipped, tmp_path):
    folder, results = shipped
    key = results[results.k == 1].key.iloc[0]
    before = (folder / "results.csv").read_text()
    first = _drop(folder, key)
    pretrain(folder, GRID, workers=1, base=BASE)
    assert torch.equal(load_file(folder / "rotations.safetensors")[key], first)
    assert json.loads((folder / "manifest.json").read_text())["rotations_recomputed_last_run"] == 1
    assert (folder / "results.csv").read_text() == before  # the table is untouched


@pytest.mark.parametrize("stale", ["0.123", ""])  # empty: the default of added fields only
def test_a_stale_row_stops_the_fill(shipped, stale, tmp_path):
    folder, results = shutil.copytree(shipped[0], tmp_path / "copy"), shipped[1]
    key = results[results.k == 1].key.iloc[-1]
    table = pd.read_csv(folder / "results.csv", dtype=str, keep_default_na=False)
    table.loc[table.key == key, "iia"] = stale
    table.to_csv(folder / "results.csv", index=False)
    _drop(folder, key)
    with pytest.raises(RuntimeError, match="differ from results.csv.*iia"):
        pretrain(folder, GRID, workers=1, base=BASE)
