"""Issue 11, instant where it can be (AppTest): on the shipped grid every slider move shows
the precomputed IIA with no button; off the grid the page names what is precomputed nearest,
offers the run, and one click moves the widgets there."""

import pandas as pd
import pytest

from tests.app_driver import ROOT, metric, open_app
from tests.shipped_support import shipped_default, shipped_link

RESULTS = ROOT / "pretrained" / "results.csv"
pytestmark = pytest.mark.skipif(not RESULTS.exists(), reason="pretrained/ not generated")


def shipped_iia(**fields) -> str:
    table = pd.read_csv(RESULTS)
    want = {"method": "das", "activation": "relu", "width": 16, "seed": 0, "site": 1, "k": 8,
            "hypothesis": "both", "das_steps": shipped_default().das.das_steps, **fields}
    keep = pd.concat([table[name] == value for name, value in want.items()], axis=1).all(axis=1)
    return f"{table[keep].iia.iloc[0]:.3f}"


def test_slider_moves_on_the_shipped_grid_show_the_answer_without_a_button():
    at = open_app({**shipped_link(), "page": "das"})
    assert metric(at, "Precomputed DAS IIA") == shipped_iia()
    for widget, value, fields in (("k", 4, {"k": 4}), ("site", 2, {"k": 4, "site": 2}),
                                  ("site", 3, {"k": 4, "site": 3}), ("k", 8, {"site": 3})):
        at.slider(key=widget).set_value(value).run()
        assert not at.exception
        assert metric(at, "Precomputed DAS IIA") == shipped_iia(**fields), (widget, value)
    at.selectbox(key="hypothesis").set_value("left").run()
    assert metric(at, "Precomputed DAS IIA") == shipped_iia(site=3, hypothesis="left")


def test_off_the_grid_the_page_names_the_nearest_and_offers_the_run():
    at = open_app({**shipped_link(), "page": "das", "k": "7"})
    assert metric(at, "Precomputed DAS IIA") is None
    text = " ".join(m.value for m in at.markdown)
    assert "Not precomputed" in text and "k 7 → **8**" in text
    assert not at.button(key="das_button").disabled  # the run is offered
    at.button(key="nearest_0").click().run()
    assert at.slider(key="k").value == 8
    assert metric(at, "Precomputed DAS IIA") == shipped_iia()


def test_the_seed_spread_caption_summarises_its_own_table():
    table = pd.read_csv(RESULTS)
    for site, published in ((1, True), (2, False)):
        at = open_app({"page": "das", "site": str(site)})
        das = table[(table.method == "das") & (table.activation == "relu") & (table.width == 16)
                    & (table.k == 8) & (table.hypothesis == "both") & (table.site == site)
                    & (table.das_init == "neuron")]
        captions = [c.value for c in at.caption if "One model seed is one sample" in c.value]
        assert len(captions) == 1, captions
        assert f"from {das.iia.min():.2f} to {das.iia.max():.2f} over 5 seeds" in captions[0]
        assert ("0.72 to 0.98" in captions[0]) == published


def _frames(at, *columns: str) -> list:
    """The page's tables that have these columns (AppTest does not expose their keys)."""
    return [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]


def _summary_iia(at, method: str) -> float:
    summary, = _frames(at, "method", "type", "iia", "n")
    return float(summary[(summary.method == method) & (summary.type == "all")].iia.iloc[0])


@pytest.mark.parametrize("site, k", [(1, 8), (2, 8), (1, 4), (0, 2)])
def test_swaps_on_the_shipped_grid_need_no_run_and_score_the_shipped_iia(site, k):
    """The Swaps page swaps with the shipped run's stored rotation and neuron-wise subsets
    before any run; over every held-out test pair their IIA is the shipped table's (the
    oracle: a wrong rotation, mask, inverse or pair set would not reproduce it)."""
    at = open_app({**shipped_link(), "page": "swaps", "site": str(site), "k": str(k)})
    assert not at.exception, at.exception
    assert any("Instant, from the shipped run" in c.value for c in at.caption)
    assert not at.button(key="swap_das_button").disabled  # the full run is still offered
    assert f"{_summary_iia(at, 'DAS'):.3f}" == shipped_iia(site=site, k=k)
    assert f"{_summary_iia(at, 'neuron-wise search'):.3f}" == shipped_iia(site=site, k=k,
                                                                           method="neuron")
    outcome, = _frames(at, "method", "prediction after swap", "expected", "correct")
    assert len(outcome) == 4  # the drawn pair, swapped by each alignment


def test_off_the_shipped_grid_the_swaps_page_waits_for_a_run():
    at = open_app({**shipped_link(), "page": "swaps", "k": "3"})  # the grid: k = 1, 2, 4, 8
    assert not at.exception, at.exception
    assert not any("Instant, from the shipped run" in c.value for c in at.caption)
    assert not _frames(at, "method", "type", "iia", "n")


def test_an_uploads_weights_get_no_stored_swaps():
    """The stored rotation belongs to the recipe's weights; an upload of the same config
    (its digest in `origin`) has other weights, and a linear map stores no rotation."""
    from types import SimpleNamespace

    from app.pages import swaps as page

    recipe = SimpleNamespace(origin="")
    assert page.stored_alignments(shipped_default(), recipe) is not None
    assert page.stored_alignments(shipped_default(), SimpleNamespace(origin="ab12")) is None
    assert page.stored_alignments(shipped_default().with_values(map="linear"), recipe) is None
