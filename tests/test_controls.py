import torch

from explorer.methods.controls import (closest_signed_permutation, full_layer_iia, permutation_units)
from explorer.core.interventions import block_mask, random_rotation
from explorer.core.pairs import pair_set
from explorer.core.rng import generator


def test_closest_signed_permutation_recovers_a_noisy_signed_permutation():
    g = generator(0, "p")
    perm = torch.eye(8)[torch.randperm(8, generator=g)]
    signs = torch.where(torch.rand(8, generator=g) > 0.5, 1.0, -1.0)
    target = perm * signs
    noisy = target + 0.05 * torch.randn(8, 8, generator=g)
    assert torch.equal(closest_signed_permutation(noisy), target)
    # and a rotation that is far from any permutation still gets a valid signed permutation
    snapped = closest_signed_permutation(random_rotation(8, g))
    assert torch.equal(snapped.abs().sum(0), torch.ones(8))
    assert torch.equal(snapped.abs().sum(1), torch.ones(8))


def test_permutation_units_read_the_snapped_assignment():
    P = torch.eye(4)[:, [2, 0, 3, 1]]  # coordinate j reads unit [2, 0, 3, 1][j]
    assert permutation_units(P, block_mask(2, 2, 4)) == [[0, 2], [1, 3]]


def test_full_layer_patch_reproduces_the_sources_own_prediction(trained):
    model, cfg, _ = trained
    test = pair_set(model, cfg).test
    iia = full_layer_iia(model, test)
    first = test.intervened.int().argmax(-1)
    src = test.source_h[torch.arange(len(test)), first]
    oracle = ((model.forward_from(test.site, src) > 0) == test.counterfactual_label)
    assert abs(iia.iia - oracle.float().mean().item()) < 1e-9
