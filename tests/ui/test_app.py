"""The Streamlit app through `streamlit.testing.v1.AppTest`: every page renders, buttons
produce the engine's numbers, bad input gives an error element, the URL restores config."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_driver import click, finish_jobs, goto, metric, open_app
from explorer.methods import steps
from explorer.core.config import RunConfig
from explorer.core.pairs import pair_set
from explorer.core.vocabulary import CONTROLS
from explorer.core.train import accuracy_table, heldout_examples, train_model

SMALL = dict(train_steps="300", eval_size="512", das_steps="40", restarts="1", k="2",
             n_train_pairs="512", n_val_pairs="128", n_test_pairs="256", n_search_pairs="128")
PAGES = ("train", "geometry", "neuron", "das", "swaps", "share")


def app(**params) -> AppTest:
    return open_app({**SMALL, **params})


def trained(**params) -> AppTest:
    """An app whose model is trained (clicking Train unless this server already has it)."""
    return press(app(**params), "train_button")


def press(at: AppTest, key: str) -> AppTest:
    """Click a compute button unless its result is already there (button disabled)."""
    if not at.button(key=key).disabled:
        click(at, key)
    assert not at.exception, at.exception
    return at


def chart_marks(at: AppTest) -> list[str]:
    """Mark types of every chart on the page (nested layers and panels included)."""
    def marks(spec):
        mark = spec.get("mark")
        found = [mark["type"] if isinstance(mark, dict) else mark] if mark else []
        for key in ("layer", "hconcat", "vconcat"):
            for sub in spec.get(key, []):
                found += marks(sub)
        return found + (marks(spec["spec"]) if "spec" in spec else [])
    return [m for el in at.get("vega_lite_chart") for m in marks(json.loads(el.proto.spec))]


def table(at: AppTest, column: str):
    """The first dataframe on the page with this column."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def small_config(**extra) -> RunConfig:
    return RunConfig.from_flat({**SMALL, **extra})


def test_every_page_renders_at_defaults_without_a_model():
    at = open_app({"seed": "7"}, timeout=60)  # default settings, a seed no model ships with
    assert not at.exception
    assert at.slider(key="width").value == 16 and at.selectbox(key="hypothesis").value == "both"
    for page in PAGES:
        goto(at, page)
        assert not at.error
        assert any("Train" in info.value for info in at.info)  # says what to do first
    at.selectbox(key="activation").set_value("gelu").run()
    at.selectbox(key="map").set_value("linear").run()
    at.slider(key="site").set_value(0).run()
    for page in PAGES:
        goto(at, page)
        assert not at.error


def test_train_click_shows_curves_and_the_engines_accuracy():
    at = app(seed="11")
    assert not at.get("vega_lite_chart")
    click(at, "train_button")
    assert not at.exception
    assert at.button(key="train_button").disabled  # trained: no retraining on rerun
    marks = chart_marks(at)
    assert marks.count("line") == 2 and "bar" in marks  # loss, accuracy, per-pattern bars
    cfg = small_config(seed=11)
    model, _ = train_model(cfg)
    expected = accuracy_table(model, heldout_examples(cfg))
    assert metric(at, "Held-out task accuracy") == f"{expected.accuracy.iloc[0]:.3f}"
    shown = table(at, "pattern")
    assert list(shown.pattern) == list(expected.pattern)


def test_das_page_numbers_match_the_engine_and_controls_render():
    at = goto(trained(), "das")
    click(at, "das_button")
    assert not at.exception
    cfg = small_config()
    model, _ = train_model(cfg)
    das = steps.run_das(model, cfg, pair_set(model, cfg))
    assert metric(at, "DAS IIA (test pairs)") == f"{das.test.iia:.3f}"
    assert metric(at, "no-intervention baseline") == f"{das.test.baseline:.3f}"
    # R and its permutation (V1, V2, rest panels: 6), then the per-pair success map (1)
    assert chart_marks(at).count("rect") == 7
    controls = table(at, "pass looks like").set_index("name")
    assert {c.label for c in CONTROLS} | {"no intervention"} <= set(controls.index)
    for c in CONTROLS:  # each control says what a pass and a fail look like, and its verdict
        assert controls.loc[c.label, "pass looks like"] == c.passes
        assert controls.loc[c.label, "fail looks like"] == c.fails
        assert controls.loc[c.label, "verdict"].split(" ")[0] in {
            "pass", "fail", "vacuous", "n/a", "localist", "distributed"}
    # 40 steps of DAS do not converge: the page says so and offers more steps, one click away
    assert das.converged is False
    steps_used = next(m for m in at.metric if m.label == "DAS steps used")
    assert (steps_used.value, steps_used.proto.delta) == ("40", "not converged")  # fits 1280 px
    assert any("did not converge" in w.value for w in at.warning)
    at.button(key="das_fix_0").click().run()
    assert not at.exception and at.number_input(key="das_steps").value == 80


def test_other_pages_after_training():
    at = goto(trained(), "geometry")
    assert "circle" in chart_marks(at)  # PCA at once; the probes in a background job
    finish_jobs()
    assert "bar" in chart_marks(at.run())
    press(goto(at, "neuron"), "neuron_button")
    assert len(table(at, "search_iia")) > 0
    assert "rect" in chart_marks(at)  # the per-neuron heatmap across sites
    press(goto(at, "swaps"), "swap_das_button")
    assert len(table(at, "role")) == 3  # base and two sources
    at.selectbox(key="swap_base").set_value("AABB").run()
    assert table(at, "role").pattern.iloc[0] == "AABB"
    at.button(key="swap_next").click().run()
    assert at.number_input(key="swap_draw").value == 1
    at.checkbox(key="swap_changed").check().run()
    assert not at.exception and len(table(at, "n")) > 0
    goto(at, "share")
    assert len(at.get("download_button")) == 5
    assert "width=16" in at.code[0].value


def test_changing_the_config_flags_the_trained_model_as_not_matching():
    at = trained()
    at.slider(key="width").set_value(12).run()
    assert not at.exception
    assert any("configuration changed" in w.value for w in at.warning)
    assert not at.get("vega_lite_chart")  # no stale numbers
    assert not at.button(key="train_button").disabled
    at.slider(key="width").set_value(16).run()  # back: instant, from the cache
    assert at.button(key="train_button").disabled and at.get("vega_lite_chart")


def test_dependent_ranges_clamp_with_a_note():
    at = app(hypothesis="left", k="16")
    assert at.slider(key="k").value == 16
    at.selectbox(key="hypothesis").set_value("both").run()
    assert not at.exception
    assert at.slider(key="k").value == 8 and any("k" in i.value for i in at.info)
    at.slider(key="layers").set_value(1).run()
    assert at.slider(key="site").value == 1 and not at.exception


def test_invalid_input_shows_an_error_not_an_exception():
    at = trained()
    at.number_input(key="vocab_size").set_value(5).run()
    assert not at.exception
    assert any("vocab_size" in e.value and "16" in e.value for e in at.error)
    assert at.get("vega_lite_chart")  # the last valid configuration stays on screen
    bad = app(k="99", activation="softplus", width="abc", bogus="1")
    assert not bad.exception
    text = " ".join(e.value for e in bad.error)
    for name in ("k", "activation", "width", "bogus"):
        assert f"**{name}**" in text
    assert bad.slider(key="k").value == 8 and bad.slider(key="width").value == 16


def test_query_params_restore_the_config_and_follow_widgets():
    at = app(width="8", layers="2", seed="3", hypothesis="left", k="3", layer="2",
             activation="tanh", das_lr="0.02", page="das", swap_changed="true")
    assert not at.exception
    assert (at.slider(key="width").value, at.slider(key="layers").value) == (8, 2)
    assert at.number_input(key="seed").value == 3 and at.slider(key="k").value == 3
    assert at.selectbox(key="activation").value == "tanh"
    assert at.number_input(key="das_lr").value == pytest.approx(0.02)
    assert at.radio(key="page").value == "das"
    at.slider(key="k").set_value(5).run()
    assert at.query_params["k"] == ["5"] or at.query_params["k"] == "5"
    cfg = RunConfig.from_flat({k: v[0] if isinstance(v, list) else v
                               for k, v in at.query_params.items() if k in RunConfig().to_flat()})
    assert (cfg.model.width, cfg.das.k, cfg.model.activation, cfg.seed) == (8, 5, "tanh", 3)
