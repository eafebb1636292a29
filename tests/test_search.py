import math

import torch

from explorer.handbuilt import equality_network
from explorer.iia import evaluate
from explorer.config import RunConfig
from explorer.pipeline import pair_set
from explorer.search import neuron_search, rank_exhaustive, score_masks, single_unit_scores


def _pairs(model, **kw):
    return pair_set(model, RunConfig().with_values(layer=1, k=8, n_test_pairs=512,
                                                   n_search_pairs=256, **kw))


def test_batched_scores_equal_one_at_a_time_evaluation(trained):
    model, cfg, _ = trained
    pairs = pair_set(model, cfg)
    data = pairs.search[0]
    subsets = [(0, 3, 5), (1, 2, 15), (4, 7, 9)]
    masks = torch.zeros(3, 16)
    for i, s in enumerate(subsets):
        masks[i, list(s)] = 1
    batched = score_masks(model, data, 0, masks)
    for i in range(3):
        var_mask = torch.stack([masks[i], torch.zeros(16)])
        assert batched[i].item() == evaluate(model, data, var_mask).iia


def test_exhaustive_search_scores_every_subset(trained):
    model, cfg, _ = trained
    data = pair_set(model, cfg).search[1]
    subsets, scores = rank_exhaustive(model, data, 1, 3)
    assert len(subsets) == math.comb(16, 3) == len(set(subsets))
    assert bool((scores[:-1] >= scores[1:]).all())


def test_greedy_search_beyond_the_exhaustive_limit_still_finds_the_hand_built_units():
    model = equality_network(4)
    pairs = _pairs(model)
    result = neuron_search(model, pairs.search, pairs.test, 8, max_exhaustive=10)
    assert not result.exhaustive
    assert result.subsets == (tuple(range(8)), tuple(range(8, 16)))
    assert result.test.iia == 1.0


def test_chosen_subsets_are_disjoint_and_single_units_rank_the_hand_built_network():
    model = equality_network(4)
    pairs = _pairs(model)
    result = neuron_search(model, pairs.search, pairs.test, 4, max_exhaustive=20_000)
    assert not set(result.subsets[0]) & set(result.subsets[1])
    units = single_unit_scores(model, pairs.search)
    v1 = units[units.variable == "V1"].set_index("neuron").iia
    # units that hold V1 explain V1 interventions better than units that hold V2
    assert v1.loc[list(range(8))].mean() > v1.loc[list(range(8, 16))].mean() + 0.05
