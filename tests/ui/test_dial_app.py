"""The complexity dial in the app: the RevNet map selector and its width in the link, the
DAS page on a RevNet run (matrix-only views say they do not apply), and (further down) the
complexity chart, the hypothesis court, the per-pair map and the Planted model source."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_driver import clear_caches, click, metric, open_app
from explorer.core.config import RunConfig
from explorer.core.vocabulary import NOT_APPLICABLE

SMALL = dict(train_steps="300", eval_size="512", das_steps="40", restarts="1", k="2",
             n_train_pairs="512", n_val_pairs="128", n_test_pairs="256", n_search_pairs="128")


@pytest.fixture(scope="module", autouse=True)
def fresh_caches():
    clear_caches()


def _press(at: AppTest, key: str) -> AppTest:
    if not at.button(key=key).disabled:
        click(at, key)
    assert not at.exception, at.exception
    return at


def test_map_width_widget_only_for_revnet_and_in_the_link():
    at = open_app({**SMALL, "map": "revnet", "map_width": "4"})
    assert not at.exception
    assert at.slider(key="map_width").value == 4
    assert at.query_params["map_width"] == ["4"] or at.query_params["map_width"] == "4"
    at.selectbox(key="map").set_value("orthogonal").run()
    assert not at.exception
    assert "map_width" not in [s.key for s in at.slider]
    at.selectbox(key="map").set_value("revnet").run()
    assert at.slider(key="map_width").value == 4  # kept while hidden


def test_das_page_on_a_revnet_run_says_matrix_views_do_not_apply():
    at = open_app({**SMALL, "map": "revnet", "map_width": "2", "page": "das"})
    _press(at, "train_button")
    _press(at, "das_button")
    assert metric(at, "DAS IIA (test pairs)") is not None
    text = " ".join(i.value for i in at.info)
    assert NOT_APPLICABLE in text and "h = 2" in text
    assert RunConfig.from_flat({"map": "revnet", "map_width": "2"}).das.map_width == 2
