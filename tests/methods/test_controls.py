import copy
from dataclasses import replace

import torch

from explorer.core.config import RunConfig
from explorer.core.handbuilt import equality_network, exact_units
from explorer.core.iia import IIA, evaluate
from explorer.core.interventions import block_mask, random_rotation
from explorer.core.pairs import pair_set
from explorer.core.rng import generator
from explorer.core.task import sample_examples
from explorer.core.train import entities_for, heldout_examples
from explorer.methods.controls import (RANDOM_ROTATIONS, Controls, NetworkControl, OutputSpread,
                                       closest_signed_permutation, cross_variable_iia,
                                       full_layer_iia, full_layer_source_label_iia,
                                       output_spread, permutation_units, random_rotation_iias,
                                       sanity_tolerance, verdicts)
from explorer.methods.das import units_permutation
from explorer.methods.steps import READOUT_EXAMPLES, random_features_model, untrained_model


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


def test_vacuous_flag_fires_on_a_constant_output_network_and_not_on_a_trained_one(trained):
    model, cfg, _ = trained
    x = heldout_examples(cfg).x
    assert not output_spread(model, x).constant
    constant = copy.deepcopy(model)  # readout weights zeroed: one logit for every input
    with torch.no_grad():
        constant.readout.weight.zero_()
        constant.readout.bias.fill_(0.3)
    spread = output_spread(constant, x)
    assert spread.constant and spread.std < 1e-6 and spread.majority_rate == 1.0
    untrained = untrained_model(cfg)  # the finding: the untrained 3x16 ReLU net too
    assert output_spread(untrained, x).constant and output_spread(untrained, x).std < 0.1


def test_verdicts_call_a_constant_network_control_vacuous_whatever_it_scores():
    iia = IIA(0.5, {}, 0.5, 0.5, 100)
    net = NetworkControl(iia, OutputSpread(0.03, 1.0), 0.5)
    varied = NetworkControl(iia, OutputSpread(1.0, 0.5), 0.6)
    high = NetworkControl(IIA(0.9, {}, 0.9, 0.5, 100), OutputSpread(1.0, 0.5), 0.6)
    controls = Controls(net, varied, (0.5, 0.52), iia, iia, iia, IIA(1.0, {}, 1.0, 0.5, 100))
    v = verdicts(controls, das_iia=0.9, task_accuracy=1.0)
    assert v["untrained_das"] == "vacuous" and v["random_features_das"] == "pass"
    assert v["cross_variable"] == "pass" and v["full_layer"] == "pass"
    assert v["random_rotation"] == "pass" and v["closest_permutation"] == "distributed"
    failing = replace(controls, random_features=high, cross_variable=IIA(0.9, {}, 0.9, 0.5, 100),
                      full_layer_source_label=IIA(0.9, {}, 0.9, 0.5, 100))
    v = verdicts(failing, das_iia=0.9, task_accuracy=1.0)
    assert v["random_features_das"] == v["cross_variable"] == v["full_layer"] == "fail"


def test_cross_variable_swap_is_near_chance_when_v1_and_v2_units_are_disjoint():
    """Hand-built network: V1 lives in units 0-7, V2 in 8-15. Swapping V1's units on V2-only
    pairs (and back) sets the wrong variable: agreement with the counterfactual label is
    chance. The control can fail: give each variable the other's units and it scores 1.0."""
    model = equality_network(4)
    cfg = RunConfig().with_values(site=1, k=8, n_test_pairs=2048)
    test = pair_set(model, cfg).test
    exact = block_mask(8, 2, 16)  # exact_units(4) are the blocks [0, 8) and [8, 16)
    assert evaluate(model, test, exact).iia == 1.0
    cross = cross_variable_iia(model, test, exact)
    assert abs(cross.iia - 0.5) < 0.05 and cross.n == int((test.intervened.sum(-1) == 1).sum())
    assert cross_variable_iia(model, test, exact.flip(0)).iia == 1.0
    perm = units_permutation(exact_units(4), 16)  # the same through a map: the same score
    assert cross_variable_iia(model, test, exact, perm).iia == cross.iia


def test_random_rotation_control_is_the_spread_over_twenty_draws(trained):
    model, cfg, _ = trained
    test = pair_set(model, cfg).test
    mask = block_mask(8, 2, 16)
    scores = random_rotation_iias(model, test, mask, generator(0, "r"))
    gen = generator(0, "r")  # oracle: one rotation at a time through the engine's evaluate
    assert len(scores) == RANDOM_ROTATIONS >= 20
    assert list(scores) == [evaluate(model, test, mask, random_rotation(16, gen)).iia
                            for _ in range(RANDOM_ROTATIONS)]


def test_full_layer_patch_against_the_source_label_equals_task_accuracy(trained):
    model, cfg, accuracy = trained
    test = pair_set(model, cfg).test
    iia = full_layer_source_label_iia(model, test)
    first = test.intervened.int().argmax(-1)
    rows = torch.arange(len(test))
    src_pred = model.forward_from(test.site, test.source_h[rows, first]) > 0
    assert iia.iia == (src_pred == test.source_label[rows, first]).float().mean().item()
    assert abs(iia.iia - accuracy) <= sanity_tolerance(accuracy, iia.n)
    assert abs(full_layer_iia(model, test).iia - 0.5) < 0.05  # by construction, any network


def test_random_features_readout_is_the_regularized_logistic_fit(trained):
    """Same hidden layers as the untrained control; the refitted readout satisfies the
    ridge-logistic optimality condition (gradient ~ 0) and its output is not constant."""
    _, cfg, _ = trained
    net, untrained = random_features_model(cfg), untrained_model(cfg)
    for a, b in zip(net.hidden_layers, untrained.hidden_layers):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    examples = sample_examples(READOUT_EXAMPLES, entities_for(cfg), "train",
                               generator(cfg.seed, "random-features"))
    feats = net.hidden(examples.x, cfg.model.layers).double()
    live = feats.std(0) > 0  # dead units carry no feature
    feats = feats[:, live]
    z = (feats - feats.mean(0)) / feats.std(0)
    w = net.readout.weight.double()[0, live] * feats.std(0)  # weights on standardized features
    p = torch.sigmoid(net(examples.x).double())
    grad = z.T @ (p - examples.y.double()) + 1e-3 * len(z) * w
    assert grad.abs().max() < 1e-2 * len(z) ** 0.5
    assert not output_spread(net, heldout_examples(cfg).x).constant
