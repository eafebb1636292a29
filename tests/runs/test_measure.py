"""runs.measure: the model cache trains once and reloads the same weights; a sweep point's
row holds the numbers the engine computes directly."""

import torch

from explorer.core.config import tiny
from explorer.core.pairs import pair_set
from explorer.methods.steps import run_neuron
from explorer.runs.measure import ModelCache, measure

CFG = tiny(train_steps=150, k=2, n_search_pairs=128, n_test_pairs=256, seed=3)


def test_the_cache_trains_once_and_reloads_identical_weights(tmp_path):
    first, accuracy = ModelCache(tmp_path).get(CFG)
    assert len(list(tmp_path.glob("*.safetensors"))) == 1
    again, accuracy_again = ModelCache(tmp_path).get(CFG.with_values(site=0, k=1))  # same model
    assert accuracy == accuracy_again
    for p, q in zip(first.parameters(), again.parameters()):
        assert torch.equal(p, q)
    assert len(list(tmp_path.glob("*.safetensors"))) == 1


def test_a_neuron_row_is_the_direct_search(tmp_path):
    cache = ModelCache(tmp_path)
    row, rotation = measure(cache, CFG, "neuron")
    model, _ = cache.get(CFG)
    direct = run_neuron(model, CFG, pair_set(model, CFG))
    assert rotation is None
    assert row["iia"] == direct.test.iia
    assert row["neurons"] == ";".join(" ".join(map(str, s)) for s in direct.subsets)
