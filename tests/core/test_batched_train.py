"""core.batched_train: several seeds trained as one batch give each seed exactly the weights
and history of its own single-seed training (train_model is the oracle)."""

import pytest
import torch

from explorer.core.batched_train import batched_is_exact, train_models, train_seeds
from explorer.core.config import tiny
from explorer.core.train import train_model


def _same(model_a, model_b) -> bool:
    return all(torch.equal(a, b) for a, b in zip(model_a.state_dict().values(),
                                                  model_b.state_dict().values()))


@pytest.mark.parametrize("values", [
    {}, {"activation": "sigmoid", "width": 12, "entity_dim": 3},
    {"activation": "gelu", "layers": 1, "vocab_size": 64},
])
def test_three_seeds_batched_equal_their_single_seed_training(values):
    cfgs = [tiny(train_steps=120, seed=s, **values) for s in (0, 3, 7)]
    for (model, history), cfg in zip(train_models(cfgs), cfgs):
        want, want_history = train_model(cfg)
        assert _same(model, want)  # bit for bit, not close
        assert history.equals(want_history)


def test_seeds_differ_and_the_probe_can_fail():
    cfgs = [tiny(train_steps=50, seed=s) for s in (0, 1)]
    (a, _), (b, _) = train_models(cfgs)
    assert not torch.equal(a.readout.weight, b.readout.weight)  # each seed its own init
    assert batched_is_exact(cfgs)
    # a batch of 100 sums its gradients in another order batched than alone: the probe
    # says so, and train_seeds then trains seed by seed (still each seed's own numbers)
    odd = [tiny(train_steps=30, seed=s, train_batch_size=100) for s in (0, 1)]
    assert not batched_is_exact(odd)
    trained, batched = train_seeds(odd)
    assert not batched
    assert all(_same(m, train_model(c)[0]) for (m, _), c in zip(trained, odd))


def test_only_the_seed_may_differ():
    with pytest.raises(ValueError, match="seed only"):
        train_models([tiny(seed=0), tiny(seed=1, width=8)])
