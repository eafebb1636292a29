"""The shipped planted grid (pretrained/planted): complete, its checkpoints still score what
the table records, the verdicts follow from the numbers, and one network regenerates its rows
exactly (slow)."""

import math

import pandas as pd
import pytest

from explorer.core.iia import evaluate
from explorer.core.pairs import pair_set
from explorer.core.train import heldout_examples, task_accuracy
from explorer.analysis.recovery import ANGLE_TOLERANCE_DEG, IIA_TOLERANCE
from explorer.runs import planted_grid as grid
from explorer.runs.plant_methods import METHODS
from explorer.runs.planting import PLANT_THRESHOLD, WRONG, load_planted

TABLE = grid.load()
pytestmark = pytest.mark.skipif(TABLE is None, reason="pretrained/planted not generated")
NETWORK = ["activation", "form", "seed"]


def test_the_table_covers_the_grid():
    networks = set(map(tuple, TABLE[NETWORK].drop_duplicates().values.tolist()))
    assert networks == {(a, f, s) for a in grid.ACTIVATIONS for f in grid.FORMS
                        for s in grid.SEEDS}
    default = TABLE[~TABLE.curve]
    for _, rows in default.groupby(NETWORK):
        assert set(zip(rows.hypothesis, rows.method)) == {
            (h, m) for h in ("both", *WRONG) for m in METHODS}
    curve = TABLE[TABLE.curve]
    assert set(curve.form) == {"rotated"} and set(curve.hypothesis) == {"both"}
    for _, rows in curve.groupby(NETWORK):
        assert set(zip(rows.method, rows.das_steps)) == {
            (m, b) for m in grid.LEARNED for b in grid.BUDGETS}


@pytest.mark.parametrize("activation", grid.ACTIVATIONS)
def test_each_checkpoint_still_scores_its_recorded_accuracy_and_planted_iia(activation):
    for (form, seed), rows in TABLE[TABLE.activation == activation].groupby(["form", "seed"]):
        model, cfg, plant, meta = load_planted(
            grid.checkpoint_path(grid.OUT, activation, form, seed))
        assert (plant.form, plant.site, plant.k, cfg.seed) == (form, grid.SITE, grid.K, seed)
        assert task_accuracy(model, heldout_examples(cfg)) == rows.task_accuracy.iloc[0]
        planted = evaluate(model, pair_set(model, cfg).test, plant.var_mask, plant.rotation)
        assert planted.iia == rows.planted_iia.iloc[0] == meta["planted"]["iia"]


def test_verdicts_follow_from_the_numbers():
    both = TABLE[TABLE.hypothesis == "both"]
    took = both[~both.plant_failed]
    expected = ((took.iia >= took.planted_iia - IIA_TOLERANCE)
                & (took.used_angle_deg <= ANGLE_TOLERANCE_DEG))
    assert (took.found.astype(bool) == expected).all()
    strict = expected & (took.max_angle_deg <= ANGLE_TOLERANCE_DEG)
    assert (took.found_strict.astype(bool) == strict).all()
    assert (both.plant_failed == ((both.planted_iia < PLANT_THRESHOLD)
                                  | (both.task_accuracy < PLANT_THRESHOLD))).all()
    assert TABLE[TABLE.hypothesis != "both"].found.isna().all()  # no verdict on other hypotheses


def test_the_neuron_wise_search_recovers_every_localist_plant_that_took():
    """Found: the planted IIA, and the units the network reads among those found (some of a
    plant's units may go unread, so the largest principal angle can be 90 degrees)."""
    rows = TABLE[(TABLE.form == "localist") & (TABLE.hypothesis == "both")
                 & (TABLE.method == "neuron") & ~TABLE.plant_failed]
    assert len(rows) >= 10
    assert rows.found.astype(bool).all()


@pytest.mark.slow
def test_one_network_regenerates_its_rows(tmp_path):
    (tmp_path / "models").mkdir()  # as ship() makes it
    rows = pd.DataFrame(grid.one_network("relu", "rotated", 0, str(tmp_path)))
    shipped = TABLE[(TABLE.activation == "relu") & (TABLE.form == "rotated") & (TABLE.seed == 0)]
    key = ["curve", "hypothesis", "method", "das_steps"]
    mine = rows.sort_values(key, ignore_index=True)
    theirs = shipped.sort_values(key, ignore_index=True)
    for column in ("iia", "max_angle_deg", "used_angle_deg", "planted_iia", "task_accuracy"):
        assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(mine[column], theirs[column])), column
