import torch

from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import TaskConfig
from explorer.core.rng import generator
from explorer.core.task import PATTERNS, Entities, sample_examples, sample_pairs


def _entities(**kw):
    return Entities.build(TaskConfig(**kw), generator(0, "vocab"))


def test_patterns_are_exactly_balanced_and_match_the_causal_model():
    ex = sample_examples(1000, _entities(), "train", generator(1, "x"))
    assert torch.bincount(ex.pattern, minlength=4).tolist() == [250] * 4
    a, b, c, d = ex.x.view(-1, 4, 4).unbind(1)
    v1 = torch.tensor([bool(torch.equal(p, q)) for p, q in zip(a, b)])  # oracle: plain loops
    v2 = torch.tensor([bool(torch.equal(p, q)) for p, q in zip(c, d)])
    assert torch.equal(ex.v1, v1) and torch.equal(ex.v2, v2)
    assert torch.equal(CAUSAL_MODELS["both"].run(ex.x), v1 == v2)
    assert ex.v1.float().mean() == 0.5 and ex.v2.float().mean() == 0.5 and ex.y.float().mean() == 0.5
    # entities not meant to be equal are distinct (AABB: c differs from a)
    aabb = ex.pattern == PATTERNS.index("AABB")
    assert not (a[aabb] == c[aabb]).all(-1).any()


def test_sampling_is_deterministic_per_generator():
    ent = _entities()
    x1 = sample_examples(64, ent, "train", generator(5, "s")).x
    x2 = sample_examples(64, ent, "train", generator(5, "s")).x
    x3 = sample_examples(64, ent, "train", generator(6, "s")).x
    assert torch.equal(x1, x2) and not torch.equal(x1, x3)


def test_uniform_distribution_and_entity_dim():
    ex = sample_examples(256, _entities(entity_dim=3, distribution="uniform"), "train",
                         generator(0, "u"))
    assert ex.x.shape == (256, 12)
    assert ex.x.min() >= -1 and ex.x.max() <= 1


def test_finite_vocabulary_splits_train_and_test_entities():
    ent = _entities(vocab_size=40)
    train = sample_examples(500, ent, "train", generator(0, "a")).x.view(-1, 4)
    test = sample_examples(500, ent, "test", generator(0, "b")).x.view(-1, 4)
    train_set = {tuple(r.tolist()) for r in train}
    test_set = {tuple(r.tolist()) for r in test}
    assert len(train_set) <= 20 and len(test_set) <= 20
    assert not train_set & test_set


def test_pairs_balance_bases_sources_and_intervention_types():
    pairs = sample_pairs(1200, 2, _entities(), "train", generator(0, "p"))
    assert torch.bincount(pairs.kind).tolist() == [400, 400, 400]
    assert pairs.intervened.sum(0).tolist() == [800, 800]
    for v in range(2):
        x = pairs.sources[:, v].view(-1, 4, 4)
        eq = (x[:, 0] == x[:, 1]).all(-1).float().mean()
        assert eq == 0.5
    only = sample_pairs(90, 2, _entities(), "train", generator(0, "q"), only="V2")
    assert only.intervened.tolist() == [[False, True]] * 90


def test_identity_pairs_make_the_swapped_first_argument_matter_half_the_time():
    from explorer.core.causal import counterfactual_labels
    pairs = sample_pairs(1000, 1, _entities(), "train", generator(0, "i"), identity=True)
    a_src = pairs.sources[:, 0].view(-1, 4, 4)[:, 0]
    b_src = pairs.sources[:, 0].view(-1, 4, 4)[:, 1]
    b_base = pairs.base.x.view(-1, 4, 4)[:, 1]
    matches = (a_src == b_base).all(-1)
    assert matches.sum() == 500
    # sources stay balanced on their own equality
    assert (a_src == b_src).all(-1).sum() == 500
    labels = counterfactual_labels("identity", pairs)
    assert abs(labels.float().mean() - 0.5) < 0.05  # match and c == d are independent
    # the label now depends on the source: it flips with the match in every pair
    c, d = pairs.base.x.view(-1, 4, 4)[:, 2], pairs.base.x.view(-1, 4, 4)[:, 3]
    assert torch.equal(labels, matches == (c == d).all(-1))
