"""methods.revnet: the inverse is exact, the identity initialisation is orthogonal DAS (in
the interchange, in its read subspace, and at the first training step), and the map
goes through the one interchange primitive like a matrix."""

import numpy as np
import pytest
import torch

from explorer.analysis.recovery import max_angle_deg, read_subspace
from explorer.core.config import tiny
from explorer.core.handbuilt import equality_network
from explorer.core.interventions import block_mask, interchange, pair_mask
from explorer.core.pairs import pair_set
from explorer.core.rng import generator
from explorer.methods.das import train_das
from explorer.methods.dial import WIDTHS
from explorer.methods.revnet import RevNet, train_revnet


def _moved(net: RevNet, std: float, seed: int = 0) -> RevNet:
    """Couplings away from the identity (as after training)."""
    g = generator(seed, "couplings")
    with torch.no_grad():
        for p in net.coupling_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return net


def test_the_inverse_is_exact_for_a_map_far_from_the_identity():
    g = generator(0, "revnet")
    net = _moved(RevNet(16, 3, g, width=8, blocks=4), std=0.3)
    fmap = net.map()
    x = torch.randn(512, 16, generator=g) * 2  # site states of a trained net are O(1)
    y = fmap.forward(x)  # (3, 512, 16)
    assert (y - x @ fmap.rotation).abs().max() > 1.0  # really non-linear, not the rotation
    assert (fmap.inverse(y) - x).abs().max() <= 1e-5
    one = fmap.take(2)
    torch.testing.assert_close(one.forward(x), y[2].detach(), rtol=0, atol=0)
    assert (one.inverse(one.forward(x)) - x).abs().max() <= 1e-5
    for width in WIDTHS:  # every setting of the complexity dial inverts exactly
        wide = _moved(RevNet(16, 2, g, width=width), std=0.3, seed=width).map()
        assert (wide.inverse(wide.forward(x)) - x).abs().max() <= 1e-5
    with pytest.raises(ValueError):
        RevNet(16, 1, g, width=0)


def test_identity_initialisation_is_the_rotation_in_the_interchange_and_its_subspace():
    g = generator(1, "revnet")
    net = RevNet(8, 2, g, width=4)
    base, sources = torch.randn(30, 8, generator=g), torch.randn(30, 2, 8, generator=g)
    mask = pair_mask(block_mask(2, 2, 8), torch.rand(30, 2, generator=g) > 0.3)
    rotation = net.map().rotation.detach()
    got = interchange(base, sources, mask, net.map())
    torch.testing.assert_close(got, interchange(base, sources, mask, rotation),
                               rtol=0, atol=2e-6)
    one = net.map().take(0)
    for var in range(2):
        via_jacobian = read_subspace(one, block_mask(2, 2, 8), var, states=base)
        assert max_angle_deg(via_jacobian, rotation[0][:, 2 * var:2 * var + 2]) < 1e-3


def test_interchange_through_a_map_matches_a_loop_over_examples():
    g = generator(2, "revnet")
    fmap = _moved(RevNet(6, 1, g, width=3, blocks=3), std=0.5).map().take(0)
    base, sources = torch.randn(9, 6, generator=g), torch.randn(9, 2, 6, generator=g)
    flags = torch.rand(9, 2, generator=g) > 0.4
    got = interchange(base, sources, pair_mask(block_mask(2, 2, 6), flags), fmap)
    for n in range(9):  # oracle: map, copy owned coordinates from each source, map back
        r = fmap.forward(base[n:n + 1])[0].clone()
        for v in range(2):
            if flags[n, v]:
                r[2 * v:2 * v + 2] = fmap.forward(sources[n, v:v + 1])[0, 2 * v:2 * v + 2]
        np.testing.assert_allclose(got[n].detach().numpy(),
                                   fmap.inverse(r[None])[0].detach().numpy(), atol=1e-5)


def test_same_generator_same_start_and_first_step_as_orthogonal_das():
    """The RevNet draws its rotations as DAS does, then its batches: the same generator
    gives the same starting maps and the same first loss. (Later steps agree only to float
    rounding, which Adam amplifies in near-zero gradient components; that a frozen-coupling
    RevNet reaches DAS's IIA on a planted net is tested in test_planting.py.)"""
    cfg = tiny(site=1, k=8, das_steps=1, restarts=2, n_train_pairs=512, n_val_pairs=256,
               n_test_pairs=256)
    model = equality_network()
    pairs = pair_set(model, cfg)
    das = train_das(model, pairs.train, pairs.val, pairs.test, 8, cfg.das, generator(0, "m"))
    rev = train_revnet(model, pairs.train, pairs.val, pairs.test, 8, cfg.das,
                       generator(0, "m"), coupling_lr=0.0)
    np.testing.assert_allclose(rev.history.loss[2:], das.history.loss[2:], rtol=1e-6)
    np.testing.assert_allclose(rev.history.val_iia, das.history.val_iia, atol=1 / 256)
    for blk in rev.map.blocks:  # frozen: still the identity
        assert blk[2].abs().max() == 0 and blk[3].abs().max() == 0


def test_a_frozen_rotation_stays_at_its_start_while_the_couplings_learn():
    cfg = tiny(site=1, k=8, das_steps=60, restarts=1, das_patience=1000, n_train_pairs=512,
               n_val_pairs=256, n_test_pairs=256)
    model = equality_network()
    pairs = pair_set(model, cfg)
    d = pairs.train.base_h.shape[-1]
    rev = train_revnet(model, pairs.train, pairs.val, pairs.test, 8, cfg.das,
                       generator(0, "frozen"), width=2, first=torch.eye(d), rotation_lr=0.0)
    torch.testing.assert_close(rev.map.rotation, torch.eye(d), atol=1e-6, rtol=0)
    losses = rev.history.loss.dropna()
    assert losses.iloc[-1] != losses.iloc[0]  # the couplings trained meanwhile
