"""Issue 11: IIA, site, k, map, restarts and hypothesis are explained where they appear (help
tooltips on the widgets and the IIA metrics) and every page has a short 'How to read this'."""

import pytest

from app import glossary
from tests.app_driver import ROOT, goto, open_app

RESULTS = ROOT / "pretrained" / "results.csv"


def test_the_alignment_widgets_say_what_they_mean():
    at = open_app({})
    assert at.selectbox(key="hypothesis").help == glossary.HYPOTHESIS
    assert at.slider(key="site").help == glossary.SITE
    assert at.slider(key="k").help == glossary.K
    assert at.selectbox(key="map").help == glossary.MAP
    assert at.slider(key="restarts").help == glossary.RESTARTS


def test_every_page_has_a_how_to_read_this():
    at = open_app({"page": "train"})
    for page in glossary.HOW_TO_READ:
        goto(at, page)
        boxes = [e for e in at.expander if e.label == "How to read this"]
        assert len(boxes) == 1, page
        assert boxes[0].markdown[0].value == glossary.HOW_TO_READ[page]


@pytest.mark.skipif(not RESULTS.exists(), reason="pretrained/ not generated")
def test_the_iia_metrics_explain_iia():
    at = open_app({"page": "das"})
    helps = {m.label: m.help for m in at.metric}
    assert helps["Precomputed DAS IIA"] == glossary.IIA
    assert helps["baseline (precomputed)"] == glossary.BASELINE


def test_a_linear_map_is_never_called_a_rotation():
    at = open_app({"page": "das", "map": "linear"})
    words = " ".join(e.value for kind in (at.markdown, at.caption, at.subheader) for e in kind)
    assert "an invertible linear map" in words and "mapped coordinates" in words
    assert "rotated coordinates" not in words and "learned rotation" not in words
    at = open_app({"page": "das"})
    assert "rotated coordinates" in " ".join(m.value for m in at.markdown)
