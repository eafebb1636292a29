"""The complexity dial in the app: the RevNet map selector and its width in the link, the
DAS page on a RevNet run (matrix-only views say they do not apply), and (further down) the
complexity chart, the hypothesis court, the per-pair map and the Planted model source."""

from streamlit.testing.v1 import AppTest

from tests.app_driver import click, metric, open_app
from explorer.core.config import RunConfig
from explorer.core.vocabulary import NOT_APPLICABLE

SMALL = dict(train_steps="300", eval_size="512", das_steps="40", restarts="1", k="2",
             n_train_pairs="512", n_val_pairs="128", n_test_pairs="256", n_search_pairs="128")


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


TINYNET = {**SMALL, "layers": "1", "width": "8", "entity_dim": "2", "page": "das"}


def test_complexity_court_and_pair_map_render_the_explorer_numbers():
    from app import dial, stores as state
    from explorer.analysis.complexity import DialSettings, complexity_sweep
    from explorer.analysis.court import pair_success
    from explorer.core.pairs import das_test_pairs
    from explorer.methods.steps import random_features_model

    at = open_app(TINYNET)
    _press(at, "train_button")
    _press(at, "das_button")
    _press(at, "complexity_button")
    _press(at, "court_button")
    assert not at.exception
    cfg = RunConfig.from_flat({k: v for k, v in TINYNET.items() if k != "page"})
    entry = state.find_model(cfg)
    # the complexity table: site 1 recomputed independently (streams are per network and site)
    shown = next(d.value for d in at.dataframe if "revnet h=16" in d.value.columns)
    nets = {"trained": entry.model, "control": random_features_model(cfg)}
    again = complexity_sweep(nets, cfg, DialSettings(), sites=(1,)).frame
    for _, row in again.iterrows():
        cell = shown[(shown.network == row.network) & (shown.site == 1)][row["map"]].iloc[0]
        assert cell == row.iia
    # the court: the reading shown is the one computed from its numbers
    court = dial.results()["court"].get(dial.court_key(cfg, "orthogonal"))
    assert any(court.reading in s.value for s in at.success)
    table = next(d.value for d in at.dataframe if "output" in d.value.columns)
    mine = court.frame[court.frame.network == "trained"].set_index(["site", "hypothesis"]).iia
    for (site, hyp), value in mine.items():
        assert table[(table.network == "trained") & (table.site == site)][hyp].iloc[0] == value
    # the per-pair map equals pair_success on the stored run
    run = state.find_alignment(cfg)
    cells = pair_success(entry.model, das_test_pairs(cfg), run.test, run.das.var_mask,
                         run.das.map, run.das.inverse)
    shown_cells = next(d.value for d in at.dataframe if "source_pattern" in d.value.columns)
    assert shown_cells.iia.tolist() == cells.iia.tolist()


def test_planted_source_shows_the_recovery_report():
    from app import dial, planted
    at = open_app({**TINYNET, "width": "8"})
    at.selectbox(key=planted.PLANT_FORM).set_value("rotated").run()
    at.slider(key=planted.PLANT_K).set_value(2).run()
    _press(at, "plant_button")
    cfg = RunConfig.from_flat({k: v for k, v in TINYNET.items() if k != "page"})
    result = dial.results()["plant"].get(planted.plant_key(cfg, "rotated", 1, 2))
    assert result is not None
    table = next(d.value for d in at.dataframe if "max_angle_deg" in d.value.columns)
    expected = planted.recovery_table(result)
    assert table.method.tolist() == expected.method.tolist()
    assert table.iia.tolist() == expected.iia.tolist()
    assert metric(at, "Task accuracy") == f"{result.task_accuracy:.3f}"
