"""runs.planting: a planted network carries its plant (task accuracy and the planted
alignment's IIA >= 0.98 on held-out entities), the neuron-wise search recovers a localist
plant exactly, a RevNet with frozen identity couplings reproduces orthogonal DAS on it, and
the plant command writes the JSON keys of the issue and a loadable checkpoint."""

import json

import pytest
import torch

from explorer.analysis.recovery import read_subspace, readout_gradients, recovery
from explorer.cli import main
from explorer.core.config import RunConfig
from explorer.core.iia import evaluate
from explorer.core.pairs import pair_set
from explorer.core.rng import generator
from explorer.core.train import heldout_examples, task_accuracy
from explorer.methods.steps import run_das, run_neuron
from explorer.methods.iit import make_plant
from explorer.methods.revnet import train_revnet
from explorer.runs.planting import PlantSettings, load_planted, plant_config, plant_network

# localist, 2 units per variable at layer 2 of a ReLU 3x16; half the planting recipe's steps
CFG = plant_config(RunConfig().with_values(site=2, k=2, train_steps=400, train_lr=0.01,
                                           eval_size=2048, n_test_pairs=2048,
                                           n_train_pairs=1024, n_val_pairs=512,
                                           n_search_pairs=512, das_steps=100, restarts=2))


@pytest.fixture(scope="module")
def planted():
    model, plant, _ = plant_network(CFG, PlantSettings(form="localist"))
    return model, plant, pair_set(model, CFG)


def test_the_planted_network_solves_the_task_and_carries_its_plant(planted):
    model, plant, pairs = planted
    assert task_accuracy(model, heldout_examples(CFG)) >= 0.98
    assert evaluate(model, pairs.test, plant.var_mask, plant.rotation).iia >= 0.98
    # the same measurement fails for units that were not planted
    other = make_plant("localist", 16, 2, 2, seed=5)
    assert set(sum(other.units, ())) != set(sum(plant.units, ()))
    assert evaluate(model, pairs.test, other.var_mask, other.rotation).iia < 0.9


def test_the_neuron_wise_search_recovers_a_localist_plant_exactly(planted):
    model, plant, pairs = planted
    found = run_neuron(model, CFG, pairs)
    assert found.subsets == plant.units
    planted_iia = evaluate(model, pairs.test, plant.var_mask, plant.rotation).iia
    assert found.test.iia == planted_iia  # the same swap, so the same predictions
    grads = readout_gradients(model, plant.site, pairs.test.base_h)
    subspaces = [read_subspace(None, found.var_mask, v) for v in range(2)]
    verdict = recovery("neuron", found.test.iia, subspaces,
                       [plant.subspace(v) for v in range(2)], planted_iia, grads)
    assert verdict.found and verdict.found_strict and verdict.max_angle_deg < 1e-6


def test_a_revnet_with_frozen_identity_couplings_reproduces_orthogonal_das(planted):
    model, _, pairs = planted
    das = run_das(model, CFG, pairs, stream="same")
    rev = train_revnet(model, pairs.train, pairs.val, pairs.test, CFG.das.k, CFG.das,
                       generator(CFG.seed, "same"), coupling_lr=0.0)
    assert das.test.iia > 0.9  # DAS finds the plant here, so agreeing means something
    assert abs(rev.test.iia - das.test.iia) <= 0.02


def test_the_plant_command_writes_the_report_and_a_loadable_checkpoint(tmp_path):
    out, ckpt = tmp_path / "plant.json", tmp_path / "plant.safetensors"
    small = ["--train-steps", "30", "--das-steps", "5", "--restarts", "1", "--k", "2",
             "--n-train-pairs", "128", "--n-val-pairs", "64", "--n-test-pairs", "128",
             "--n-search-pairs", "64", "--eval-size", "256"]
    code = main(["plant", "--form", "rotated", "--site", "1", *small, "--methods",
                 "neuron,revnet", "--map-width", "2", "--wrong", "identity", "--quiet",
                 "--json", str(out), "--checkpoint", str(ckpt)])
    assert code == 0
    report = json.loads(out.read_text())
    assert 0.0 <= report["task_accuracy"] <= 1.0 and report["planted"]["iia"] is not None
    assert report["planted"]["failed"] is True  # 30 steps plant nothing, and it says so
    for method in ("neuron", "revnet"):
        row = report["recovery"][method]
        assert {"iia", "max_angle_deg", "found"} <= set(row) and row["found"] is False
    assert set(report["wrong_hypotheses"]) == {"identity"}
    _, cfg, plant, meta = load_planted(ckpt)
    assert plant.form == "rotated" and cfg.das.k == 2 and meta["planted"]["iia"] is not None
    assert torch.equal(plant.rotation, make_plant("rotated", 16, 1, 2, seed=0).rotation)
    assert main(["plant", "--site", "0", *small, "--quiet"]) == 2  # the input cannot be planted
