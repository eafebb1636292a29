"""Swap outcomes against plain torch and against a hand-written counterfactual."""

import numpy as np
import pytest
import torch

from explorer.analysis import swaps
from explorer.core.alignment import Alignment
from explorer.core.interventions import random_rotation
from explorer.core.rng import generator
from explorer.core.causal import CAUSAL_MODELS, counterfactual_labels
from explorer.core.task import PATTERNS
from tests.app_fixtures import small_run  # noqa: F401  (fixture)

N_CHECK = 12


def by_hand(model, data, edit):
    """Finish the forward pass from a hand-edited state, one pair at a time."""
    out = []
    for i in range(N_CHECK):
        h = edit(data.base_h[i].clone(), data.source_h[i], data.intervened[i])
        out.append(model.forward_from(data.site, h))
    return torch.stack(out)


def test_das_swap_equals_plain_torch(small_run):
    model, data, das = small_run.model, small_run.pairs.test, small_run.das
    rotation, k = das.map, small_run.cfg.das.k

    def edit(h, sources, intervened):
        r = h @ rotation
        for v in range(2):
            if intervened[v]:
                r[v * k:(v + 1) * k] = (sources[v] @ rotation)[v * k:(v + 1) * k]
        return r @ rotation.T

    got = swaps.swapped_logits(model, data, swaps.alignments(das, None, 2, 16)[0])
    torch.testing.assert_close(got[:N_CHECK], by_hand(model, data, edit), atol=1e-5, rtol=0)


def test_neuron_and_full_layer_swaps_equal_plain_torch(small_run):
    model, data, neuron = small_run.model, small_run.pairs.test, small_run.neuron
    aligns = {a.name: a for a in swaps.alignments(None, neuron, 2, 16)}

    def edit_units(h, sources, intervened):
        for v, units in enumerate(neuron.subsets):
            if intervened[v]:
                h[list(units)] = sources[v][list(units)]
        return h

    def edit_full(h, sources, intervened):
        return sources[int(intervened.int().argmax())].clone()

    for method, edit in (("neuron-wise search", edit_units), ("full layer", edit_full),
                         (swaps.NO_INTERVENTION, lambda h, s, i: h)):
        got = swaps.swapped_logits(model, data, aligns[method])[:N_CHECK]
        torch.testing.assert_close(got, by_hand(model, data, edit), atol=1e-5, rtol=0)


def test_random_rotation_alignment_equals_plain_torch(small_run):
    model, data = small_run.model, small_run.pairs.test
    rotation = random_rotation(16, generator(1, "test-rotation"))
    mask = torch.zeros(2, 16)
    mask[0, 3:7], mask[1, 7:9] = 1, 1
    align = Alignment("custom", mask, rotation)

    def edit(h, sources, intervened):
        r = h @ rotation
        for v in range(2):
            if intervened[v]:
                r = torch.where(mask[v].bool(), sources[v] @ rotation, r)
        return r @ rotation.T

    got = swaps.swapped_logits(model, data, align)[:N_CHECK]
    torch.testing.assert_close(got, by_hand(model, data, edit), atol=1e-5, rtol=0)


def test_expected_counterfactual_label_by_hand(small_run):
    pairs = swaps.draw_pairs(small_run.cfg, 64, draw=0)
    data = swaps.site_pairs(small_run.model, small_run.cfg, pairs)

    def eq(x, i, j):
        e = x.unflatten(-1, (4, -1))
        return (e[..., i, :] == e[..., j, :]).all(-1)

    v1 = torch.where(pairs.intervened[:, 0], eq(pairs.sources[:, 0], 0, 1), eq(pairs.base.x, 0, 1))
    v2 = torch.where(pairs.intervened[:, 1], eq(pairs.sources[:, 1], 2, 3), eq(pairs.base.x, 2, 3))
    assert torch.equal(data.counterfactual_label, v1 == v2)
    assert 0 < data.counterfactual_label.float().mean() < 1


def test_outcome_summary_matches_engine_iia(small_run):
    run = small_run
    outcomes = swaps.swap_outcomes(run.model, run.pairs.test,
                                   swaps.alignments(run.das, run.neuron, 2, 16))
    table = swaps.outcome_summary(outcomes).set_index(["method", "type"]).iia
    assert table["DAS", "all"] == pytest.approx(run.das.test.iia)
    assert table["neuron-wise search", "all"] == pytest.approx(run.neuron.test.iia)
    assert table[swaps.NO_INTERVENTION, "all"] == pytest.approx(run.das.test.baseline)
    for name, value in run.das.test.by_type.items():
        assert table["DAS", name] == pytest.approx(value)
    changed = swaps.outcome_summary(outcomes, changed_only=True).set_index(["method", "type"])
    assert changed.iia["DAS", "all"] == pytest.approx(run.das.test.changed)
    data = run.pairs.test
    flips = data.counterfactual_label != data.base_label
    wrong_on_base = (data.base_pred != data.base_label)[flips].float().mean()
    # without an intervention the prediction is right on a label-changing pair exactly when
    # it was wrong about the base
    assert changed.iia[swaps.NO_INTERVENTION, "all"] == pytest.approx(float(wrong_on_base))


def test_draw_pairs_by_pattern_and_type(small_run):
    cfg = small_run.cfg
    pairs = swaps.draw_pairs(cfg, 20, draw=3, base_pattern="AABB", source_pattern="ABCC",
                             kind="V2")
    assert (pairs.base.pattern == PATTERNS.index("AABB")).all()
    assert pairs.intervened.tolist() == [[False, True]] * 20
    again = swaps.draw_pairs(cfg, 20, draw=3, base_pattern="AABB", source_pattern="ABCC",
                             kind="V2")
    assert torch.equal(pairs.sources, again.sources)
    assert not torch.equal(pairs.base.x, swaps.draw_pairs(cfg, 20, draw=4).base.x)
    table = swaps.pair_table(pairs, 0, "both")
    assert table.role.tolist() == ["base", "source for V1 (unused)", "source for V2"]
    assert table.pattern.tolist() == ["AABB", "ABCC", "ABCC"]
    base = table.iloc[0]
    assert base.a == base.b and base.c == base.d and base.V1 and base.V2 and base.label
    assert np.array_equal(table.V2.to_numpy(), np.array([True, True, True]))


def test_identity_hypothesis_shows_entity_valued_variable(small_run):
    cfg = small_run.cfg.with_values(hypothesis="identity")
    pairs = swaps.draw_pairs(cfg, 8, draw=0)
    table = swaps.pair_table(pairs, 0, "identity")
    assert list(table.columns[-2:]) == ["V1", "label"]
    assert (table.V1 == table.a).all()  # V1 is the first argument's entity


def test_single_draws_are_random_over_patterns_and_types(small_run):
    """Issue 11: one pair drawn at a time was always base ABCD, ABCD sources, on V1 (a
    balanced draw of one), so its counterfactual label always equalled the base label."""
    cfg = small_run.cfg
    draws = [swaps.draw_pairs(cfg, 1, draw=i) for i in range(40)]
    assert {int(p.base.pattern[0]) for p in draws} == set(range(len(PATTERNS)))
    sources = [swaps.pair_table(p, 0, "both").pattern.iloc[1] for p in draws]
    assert set(sources) == set(PATTERNS)
    assert {p.type_names[int(p.kind[0])] for p in draws} == {"V1", "V2", "both"}
    changed = [bool(counterfactual_labels("both", p)[0] != p.base.y[0]) for p in draws]
    assert 0 < sum(changed) < len(changed)


def test_label_changing_draws_change_the_label(small_run):
    for hypothesis in ("both", "left", "identity"):
        cfg = small_run.cfg.with_values(hypothesis=hypothesis)
        model = CAUSAL_MODELS[hypothesis]
        for draw in range(10):
            pairs = swaps.draw_pairs(cfg, 1, draw, label_changing=True)
            assert counterfactual_labels(hypothesis, pairs)[0] != model.run(pairs.base.x)[0]
        named = swaps.draw_pairs(cfg, 5, 0, base_pattern="AABB", label_changing=True)
        assert (named.base.pattern == PATTERNS.index("AABB")).all()
        assert (counterfactual_labels(hypothesis, named) != model.run(named.base.x)).all()
    # no pair can change the label: V1 swapped from an AABB source into an AABB base
    stuck = swaps.draw_pairs(small_run.cfg, 3, 0, "AABB", "AABB", "V1", label_changing=True)
    assert len(stuck) == 3 and (counterfactual_labels("both", stuck) == stuck.base.y).all()
