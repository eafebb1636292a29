"""Issue 11, the first-visit path (AppTest): shown on a link-less first visit, each step's
button lands on the page and settings it names (on the shipped grid, so the precomputed
answer is on screen), each step draws its Findings chart; dismissed, it stays dismissed;
the sidebar opens it again; a shared link opens without it."""

import pytest

from app.tour import STEPS, where
from tests.app_driver import ROOT, clear_caches, metric, open_app
from tests.shipped_support import BASE_PARAMS

RESULTS = ROOT / "pretrained" / "results.csv"
pytestmark = pytest.mark.skipif(not RESULTS.exists(), reason="pretrained/ not generated")


@pytest.fixture(scope="module", autouse=True)
def fresh_caches():
    clear_caches()


def widget_value(at, key: str):
    found = [w for kind in (at.selectbox, at.slider, at.number_input) for w in kind
             if w.key == key]
    assert len(found) == 1, key
    return found[0].value


def text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_each_step_lands_on_the_page_and_settings_it_names():
    at = open_app({})
    assert not at.exception, at.exception
    for i, step in enumerate(STEPS):
        assert step.question in text(at) and where(step) in text(at)
        chart = next(e for e in at.expander if e.label.startswith("The chart that answers"))
        assert chart.proto.expanded is True, i  # a step not yet visited shows its chart
        before = len(at.get("vega_lite_chart"))
        assert before >= 1  # the step's Findings chart
        at.button(key=f"tour_go_{i}").click().run()
        assert not at.exception, at.exception
        assert at.radio(key="page").value == step.page
        for name, value in step.settings.items():
            assert widget_value(at, name) == value, (i, name)
        assert metric(at, "Precomputed DAS IIA") is not None, i  # on the grid: instant
        chart = next(e for e in at.expander if e.label.startswith("The chart that answers"))
        assert chart.proto.expanded is False, i  # folded: the page's answer is on top
        if i < len(STEPS) - 1:
            at.button(key="tour_next").click().run()
    assert at.button(key="tour_next").disabled  # the last step


def test_dismissed_it_stays_dismissed_and_the_sidebar_reopens_it():
    at = open_app({})
    assert STEPS[0].question in text(at)
    at.button(key="tour_close").click().run()
    assert STEPS[0].question not in text(at)
    at.radio(key="page").set_value("das").run()
    at.slider(key="k").set_value(4).run()
    assert STEPS[0].question not in text(at)
    at.button(key="tour_open_button").click().run()
    assert STEPS[0].question in text(at)


def test_a_shared_link_opens_without_the_tour():
    at = open_app({**BASE_PARAMS, "page": "das"})
    assert STEPS[0].question not in text(at)
    assert not at.button(key="tour_open_button").disabled
