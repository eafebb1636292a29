import itertools
import math

import pytest
import torch

from explorer.core.handbuilt import equality_network
from explorer.core.iia import evaluate
from explorer.core.config import RunConfig
from explorer.core.pairs import pair_set
from explorer.methods import search
from explorer.methods.search import (_pick_disjoint, neuron_search, rank_exhaustive, score_masks,
                                     single_unit_scores, subset_masks)
from explorer.core.train import new_model, train_model


def _pairs(model, **kw):
    return pair_set(model, RunConfig().with_values(**{"site": 1, "k": 8, "n_test_pairs": 512,
                                                      "n_search_pairs": 256, **kw}))


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


def _every_state_scores(model, data, var, masks):
    """The oracle: every (mask, pair) state through the plain forward pass, as `evaluate` and
    the search before distinct states did (base + mask * (source - base))."""
    on = data.intervened[:, var:var + 1]
    diff = torch.where(on, data.source_h[:, var], data.base_h) - data.base_h
    return torch.cat([(model.forward_from(data.site, data.base_h + part.unsqueeze(1) * diff) > 0)
                      .eq(data.counterfactual_label).float().mean(-1)
                      for part in masks.split(64)])


def _share_of_pairs_with_few_states(data, var, n_masks):
    on = data.intervened[:, var:var + 1]
    diff = torch.where(on, data.source_h[:, var], data.base_h) - data.base_h
    return float(((diff != 0).sum(-1) < math.log2(n_masks)).float().mean())


@pytest.mark.parametrize("activation,site,k,n_pairs", [
    ("relu", 1, 8, 512), ("relu", 2, 8, 300), ("relu", 3, 4, 256), ("relu", 0, 8, 256),
    ("sigmoid", 1, 8, 256)])
def test_scores_from_distinct_states_equal_scoring_every_state(activation, site, k, n_pairs):
    """A ReLU's zeros leave most pairs with few distinct intervened states; the search scores
    those once. Its scores must be the oracle's bit for bit, where the distinct states do
    the work (ReLU hidden sites: checked that they do) and where they cannot (the input, a
    sigmoid net: every unit differs)."""
    cfg = RunConfig().with_values(activation=activation, train_steps=300, site=site, k=k,
                                  n_search_pairs=n_pairs)
    model = train_model(cfg)[0]
    pairs = pair_set(model, cfg)
    d = pairs.search[0].base_h.shape[-1]
    masks = subset_masks(torch.tensor(list(itertools.combinations(range(d), k))), d)
    for var, data in enumerate(pairs.search):
        share = _share_of_pairs_with_few_states(data, var, len(masks))
        assert (share > 0.5) if activation == "relu" and site > 0 else share == 0.0
        assert torch.equal(score_masks(model, data, var, masks),
                           _every_state_scores(model, data, var, masks)), (var, share)


def test_a_capped_table_scores_the_pairs_beyond_it_densely(trained, monkeypatch):
    """Past MAX_DISTINCT states, the pairs with the most states are scored densely: the
    table stays within its cap, and the scores are still the oracle's."""
    model, cfg, _ = trained
    data = pair_set(model, cfg).search[0]
    masks = subset_masks(torch.tensor(list(itertools.combinations(range(16), 8))), 16)
    on = data.intervened[:, :1]
    j = (torch.where(on, data.source_h[:, 0], data.base_h) != data.base_h).sum(-1)
    monkeypatch.setattr(search, "MAX_DISTINCT", 40_000)
    few = search._few_states(j, len(masks))
    assert 0 < int(few.sum()) < int((j < math.log2(len(masks))).sum())
    assert int((2 ** j[few]).sum()) <= 40_000 and j[few].max() <= j[~few].min()
    assert torch.equal(score_masks(model, data, 0, masks),
                       _every_state_scores(model, data, 0, masks))


def test_small_chunks_split_a_pairs_states_and_keep_the_scores(trained, monkeypatch):
    """Chunks of 128 states: a pair with more states (up to 2^13 here) is scored in parts."""
    model, cfg, _ = trained
    data = pair_set(model, cfg).search[1]
    masks = subset_masks(torch.tensor(list(itertools.combinations(range(16), 8))), 16)
    monkeypatch.setattr(search, "CHUNK_ELEMENTS", 2048)
    assert _share_of_pairs_with_few_states(data, 1, len(masks)) > 0.5
    assert torch.equal(score_masks(model, data, 1, masks),
                       _every_state_scores(model, data, 1, masks))


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


def test_when_every_top_combination_overlaps_the_pick_is_still_disjoint():
    # every one of variable 0's and 1's top subsets holds unit 0: no disjoint pair among them
    subsets = sorted(itertools.combinations(range(6), 2), key=lambda s: (0 not in s, s))
    ranking = (subsets, torch.linspace(1.0, 0.0, len(subsets)))
    chosen = _pick_disjoint([ranking, ranking], top=5)
    assert chosen == ((0, 1), (2, 3))  # 0's best, then 1's best among what is left


def test_greedy_and_exhaustive_searches_never_share_a_unit_between_variables():
    model = new_model(RunConfig(), "untrained").eval().requires_grad_(False)
    for site in (0, 1):  # an untrained net: the variables' favourite units coincide
        pairs = _pairs(model, site=site)
        for limit in (0, 20_000):
            result = neuron_search(model, pairs.search, pairs.test, 8, max_exhaustive=limit)
            assert not set(result.subsets[0]) & set(result.subsets[1]), (site, limit)
            assert result.var_mask.sum(0).max() == 1  # no unit swapped twice
