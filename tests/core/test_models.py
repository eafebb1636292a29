"""core.models: sites compose to the forward pass, which equals plain torch arithmetic."""

import math

import pytest
import torch

from explorer.core.config import ModelConfig
from explorer.core.models import ACTIVATIONS, MLP
from explorer.core.rng import generator


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "gelu"])
def test_forward_equals_plain_torch(activation):
    model = MLP(8, ModelConfig(activation, width=5, layers=3), generator(0, "m"))
    x = torch.randn(7, 8, generator=generator(0, "x"))
    act = ACTIVATIONS[activation]()
    h = x
    for layer in model.hidden_layers:
        h = act(h @ layer.weight.T + layer.bias)
    expected = (h @ model.readout.weight.T + model.readout.bias).squeeze(-1)
    assert torch.allclose(model(x), expected, atol=1e-6)


def test_every_site_splits_the_forward_pass():
    model = MLP(8, ModelConfig("relu", width=6, layers=3), generator(1, "m"))
    x = torch.randn(11, 8, generator=generator(1, "x"))
    states = model.hidden_states(x)
    assert len(states) == model.n_sites == 4
    for site in range(model.n_sites):
        h = model.hidden(x, site)
        assert h.shape[-1] == model.site_dim(site)
        assert torch.equal(h, states[site])
        assert torch.allclose(model.forward_from(site, h), model(x), atol=1e-6)


def test_init_is_torch_default_range_and_reproducible():
    cfg = ModelConfig("relu", width=16, layers=2)
    a, b = MLP(16, cfg, generator(5, "init")), MLP(16, cfg, generator(5, "init"))
    c = MLP(16, cfg, generator(6, "init"))
    for (name, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(p, q) and not torch.equal(p, r), name
    for layer in [*a.hidden_layers, a.readout]:
        bound = 1 / math.sqrt(layer.in_features)
        assert 0.8 * bound < layer.weight.abs().max() <= bound


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_logits_from_is_forward_from_bit_for_bit_and_leaves_its_input(activation):
    """The in-place scoring pass against the module forward pass as the oracle, from every
    site, on a leading batch shape; the state passed in is not written."""
    cfg = ModelConfig(activation=activation, layers=3, width=16)
    model = MLP(8, cfg, torch.Generator().manual_seed(0))
    x = torch.randn(5, 7, 8, generator=torch.Generator().manual_seed(1))
    for site in range(model.n_sites):
        h = model.hidden(x, site)
        before = h.clone()
        with torch.no_grad():
            want = model.forward_from(site, h)
        assert torch.equal(model.logits_from(site, h), want)
        buffers = model.scoring_buffers(site, 40)  # more rows than h has: sliced
        assert torch.equal(model.logits_from(site, h, buffers), want)
        assert torch.equal(h, before)
