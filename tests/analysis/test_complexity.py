"""The complexity dial, the hypothesis court and the per-pair success map, on networks whose
answer is known (the hand-built equality network) and against independent computations."""

import pandas as pd
import pytest
import torch

from explorer.analysis.complexity import (DialSettings, complexity_sweep, entity_overlap,
                                          map_order, pairs_for)
from explorer.analysis.court import hypothesis_court, pair_success, patterns_of, reading
from explorer.core.config import tiny
from explorer.core.handbuilt import equality_network
from explorer.core.iia import evaluate
from explorer.core.interventions import block_mask
from explorer.core.pairs import das_test_pairs, pair_set
from explorer.core.rng import generator
from explorer.core.task import Entities, sample_examples
from explorer.methods.steps import random_features_model
from explorer.methods.dial import train_dial

FAST = DialSettings(widths=(1, 4), das_steps=60, das_patience=60, restarts=1,
                    n_train_pairs=256, n_val_pairs=128, n_test_pairs=256, n_entities=128)
CFG = tiny(k=8)


def test_the_exact_alignment_of_the_handbuilt_network_scores_one_on_every_map():
    """Site 1 of the hand-built net holds V1 in units 0-7 and V2 in 8-15: each map starts at
    the identity (das_init identity), keeps its best validation state, and so must score 1.0
    on entity-disjoint test pairs; the control network cannot."""
    nets = {"trained": equality_network(), "control": random_features_model(CFG)}
    sweep = complexity_sweep(nets, CFG, FAST, sites=(1,), workers=1)
    f = sweep.frame
    assert list(f[f.network == "trained"]["map"]) == map_order((1, 4))
    assert (f[f.network == "trained"].iia == 1.0).all()
    assert (f[f.network == "control"].iia < 0.9).all()
    assert sweep.entity_overlap == 0 and "entity-disjoint" in sweep.note
    assert set(f.complexity) == set(range(4)) and (f.n == 256).all()


def test_fitting_and_test_pairs_use_disjoint_halves_of_the_entity_bank():
    pairs = pairs_for(CFG, "both", FAST)
    assert entity_overlap(pairs) == 0
    same = pairs_for(CFG, "left", FAST)  # the same base inputs for every hypothesis
    assert torch.equal(same.test.base.x, pairs.test.base.x)
    # an overlap is detected: test pairs scored against themselves
    assert entity_overlap(type(pairs)("both", pairs.test, pairs.val, pairs.test)) > 0


def test_width_zero_in_the_dial_stays_a_rotation():
    model, cfg = equality_network(), CFG
    p = pair_set(model, cfg.with_values(das_steps=30), site=2)
    fit = train_dial(model, p.train, p.val, p.test, 8, cfg.with_values(das_steps=30).das,
                     generator(0, "dial"), (0, 2))
    assert set(fit.test) == {0, 2} and 0 <= fit.test[0].iia <= 1


def test_court_reading_from_the_numbers():
    rows = [("trained", 0, "both", "Both Equality Relations", 0.99),
            ("trained", 0, "output", "Output Only", 0.6),
            ("trained", 1, "both", "Both Equality Relations", 0.97),
            ("trained", 1, "output", "Output Only", 0.7),
            ("trained", 3, "both", "Both Equality Relations", 0.55),
            ("trained", 3, "output", "Output Only", 1.0)]
    frame = pd.DataFrame(rows, columns=["network", "site", "hypothesis", "title", "iia"])
    frame["supported"] = frame.iia >= 0.9
    assert reading(frame).startswith("sites 0-1 support Both Equality Relations only; "
                                     "site 3 supports Output Only only")


def test_court_on_the_handbuilt_network_supports_both_and_left_at_site_1_not_identity():
    nets = {"trained": equality_network(), "control": random_features_model(CFG)}
    court = hypothesis_court(nets, CFG, "orthogonal", FAST, ("both", "left", "identity"),
                             sites=(1,), workers=1)
    f = court.frame.set_index(["network", "hypothesis"])
    assert f.loc[("trained", "both"), "supported"] and f.loc[("trained", "left"), "supported"]
    assert not f.loc[("trained", "identity"), "supported"]
    assert not f.loc[("control", "both"), "supported"]  # verdicts are the trained net's
    assert "Both Equality Relations and Left Equality" in court.reading


def test_patterns_are_read_back_from_the_inputs():
    ex = sample_examples(64, Entities(CFG.task), "train", generator(0, "p"))
    assert torch.equal(patterns_of(ex.x), ex.pattern)


def test_per_pair_success_adds_up_to_the_overall_iia():
    model, cfg = equality_network(), CFG.with_values(site=1, n_test_pairs=600)
    data = pair_set(model, cfg).test
    mask = block_mask(8, 2, 16)
    rot = torch.linalg.qr(torch.randn(16, 16, generator=generator(0, "r"))).Q
    frame = pair_success(model, das_test_pairs(cfg), data, mask, rot)
    overall = evaluate(model, data, mask, rot)
    assert frame.n.sum() == 600
    assert (frame.iia * frame.n).sum() / 600 == pytest.approx(overall.iia)
    by_type = frame.groupby("intervention").apply(lambda g: (g.iia * g.n).sum() / g.n.sum())
    for name, value in overall.by_type.items():
        assert by_type[name] == pytest.approx(value)
    assert set(frame.base_pattern) == {"ABCD", "AABB", "AACD", "ABCC"}


def test_complexity_command_rejects_bad_flags_with_their_names(capsys):
    from explorer.cli import main
    assert main(["complexity", "--widths", "0", "--quiet"]) == 2
    assert "--widths: each must be between 1 and 64" in capsys.readouterr().err
    assert main(["complexity", "--sites", "9", "--quiet"]) == 2
    assert "--sites: each must be between 0 and 3" in capsys.readouterr().err
