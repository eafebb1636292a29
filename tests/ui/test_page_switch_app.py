"""Issue 11, a page switch redraws without recomputing (AppTest): the geometry page's tables
and charts, the Findings sections and the tour's chart are built once and then drawn from
the cache on every rerun, with the same numbers as the engine computes directly; a cached
chart (`app.figures`) is the chart st.altair_chart draws."""

from __future__ import annotations

import functools
import json

import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from app.findings import open_key
from app.session import FINDINGS_QUESTION
from tests.app_driver import ROOT, clear_caches, finish_jobs, open_app
from explorer.analysis import geometry, readings
from explorer.core.config import RunConfig
from explorer.core.train import heldout_examples
from explorer.plots import charts as plots
from explorer.store import checkpoints, shipped, tables
from explorer.study import findings as study_findings
from explorer.study.sections import SECTIONS, all_readings

needs_shipped = pytest.mark.skipif(shipped.find(RunConfig()) is None,
                                   reason="pretrained/ has no default model")
needs_study = pytest.mark.skipif(not (ROOT / "pretrained" / "results.csv").exists(),
                                 reason="pretrained/ not generated")


@pytest.fixture(autouse=True)
def fresh_caches():
    clear_caches()
    yield
    finish_jobs()
    clear_caches()


def counted(monkeypatch, module, name: str) -> list:
    """Replace module.name by a wrapper that notes each call (same name and module, so the
    chart cache keys it as the original); returns the list of calls."""
    calls, real = [], getattr(module, name)

    @functools.wraps(real)
    def wrapper(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(module, name, wrapper)
    return calls


def chart_frame(at: AppTest, column: str) -> pd.DataFrame:
    """The dataset of the one chart on the page whose data has `column`."""
    frames = [dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data)
              for chart in at.get("vega_lite_chart") for d in chart.proto.datasets]
    found = [f for f in frames if column in f.columns]
    assert len(found) == 1, [list(f.columns) for f in frames]
    return found[0]


@needs_shipped
def test_the_geometry_page_computes_its_tables_and_charts_once(monkeypatch):
    engine = {name: counted(monkeypatch, geometry, name)
              for name in ("pca_frame", "explained_variance_frame")}
    builders = {name: counted(monkeypatch, plots, name)
                for name in ("pca_scatter", "explained_variance_lines", "probe_bars")}
    at = open_app({"page": "geometry"})
    finish_jobs()  # the probes, started by the page
    for _ in range(3):  # the probes are drawn, then two reruns change nothing
        at.run()
        assert not at.exception, at.exception
    assert {name: len(calls) for name, calls in engine.items()} == {
        "pca_frame": 1, "explained_variance_frame": 1}
    assert {name: len(calls) for name, calls in builders.items()} == {
        "pca_scatter": 1, "explained_variance_lines": 1, "probe_bars": 1}
    at.radio(key="geo_color").set_value("pattern").run()  # another chart: built once
    at.radio(key="geo_color").set_value("V1").run()  # back: from the cache
    assert [args[1] for args in builders["pca_scatter"]] == ["V1", "pattern"]
    at.radio(key="page").set_value("train").run()
    at.radio(key="page").set_value("geometry").run()
    assert len(builders["pca_scatter"]) == 2 and len(engine["pca_frame"]) == 1


@needs_shipped
def test_the_geometry_page_shows_the_engines_numbers():
    at = open_app({"page": "geometry"})
    finish_jobs()
    at.run()
    at.run()  # drawn from the cache
    model, cfg, _ = checkpoints.load(shipped.find(RunConfig()).path)
    points = heldout_examples(cfg, 600)
    want = geometry.pca_frame(model, points)
    shown = chart_frame(at, "pc1")
    assert len(shown) == len(want) == 600 * model.n_sites
    pd.testing.assert_frame_equal(shown[["site", "pc1", "pc2"]].reset_index(drop=True),
                                  want[["site", "pc1", "pc2"]], check_dtype=False)
    variance = chart_frame(at, "cumulative")
    pd.testing.assert_series_equal(
        variance.cumulative.reset_index(drop=True),
        geometry.explained_variance_frame(model, points).cumulative, check_dtype=False)
    probes = chart_frame(at, "labels")
    want = geometry.probe_frame(model, heldout_examples(cfg, 2000), cfg.seed)
    assert sorted(zip(probes.site, probes.variable, probes.labels, probes.accuracy)) == sorted(
        zip(want.site, want.variable, want.labels, want.accuracy))
    assert any(m.value == readings.probe_reading(want) for m in at.markdown)  # its reading


@needs_study
def test_findings_sections_are_computed_once_and_read_as_the_engine_reads(monkeypatch):
    frames = counted(monkeypatch, study_findings, "method_frame")
    at = open_app({"page": "findings"})
    assert not at.exception, at.exception
    first = len(frames)
    assert first >= 1
    at.run()
    at.radio(key="page").set_value("train").run()
    at.radio(key="page").set_value("findings").run()
    assert len(frames) == first and not at.exception
    at.segmented_control(key=FINDINGS_QUESTION).set_value("all").run()  # every section
    for section in SECTIONS:  # and the folded ones open
        if section.folded:
            at.session_state[open_key(section.key)] = True
    at.run()
    assert len(frames) == first and not at.exception
    data = tables.load(ROOT / "pretrained" / "results.csv", ROOT / "pretrained" / "study")
    shown = {m.value for m in at.markdown}
    for key, reading in all_readings(data).items():
        assert reading in shown, key


@needs_study
def test_the_tours_chart_is_built_once_across_page_switches(monkeypatch):
    from explorer.plots import findings as finding_charts

    builder = counted(monkeypatch, finding_charts, "method_comparison")
    at = open_app({})  # a link-less first visit: the tour is open on every page
    for page in ("geometry", "share", "train", "share"):
        at.radio(key="page").set_value(page).run()
        assert not at.exception, at.exception
    assert len(builder) == 1


def _both_ways() -> None:
    """Draws each chart twice: st.altair_chart of the chart, then app.figures.show."""
    import pandas as pd
    import streamlit as st

    from app import figures
    from explorer.plots import charts as plots

    points = pd.DataFrame({"site": [0, 0, 1, 1], "pc1": [0.1, -0.2, 0.3, 0.25],
                           "pc2": [1.0, 0.5, -0.5, 0.0], "V1": [True, False, True, False],
                           "pattern": ["ABCD", "AABB", "AACD", "ABCC"]})
    profile = pd.DataFrame({"site": [0, 1, 0, 1], "method": ["DAS", "DAS", "n", "n"],
                            "iia": [0.5, 0.91, 0.62, 0.75]})
    st.altair_chart(plots.pca_scatter(points, "V1"), width="content")
    figures.show(plots.pca_scatter, points, "V1", stretch=False)
    st.altair_chart(plots.site_profile_bars(profile, "IIA per site"), width="stretch")
    figures.show(plots.site_profile_bars, profile, "IIA per site")
    figures.show(plots.site_profile_bars, profile, "IIA per site")  # from the cache


def test_a_cached_chart_is_the_chart_st_altair_chart_draws():
    at = AppTest.from_function(_both_ways).run()
    assert not at.exception, at.exception
    charts = at.get("vega_lite_chart")
    assert len(charts) == 5
    for a, b in ((0, 1), (2, 3), (2, 4)):  # the same message: spec, Arrow data, width
        assert charts[a].proto == charts[b].proto
        assert charts[a].proto.datasets and json.loads(charts[a].proto.spec)
    assert charts[0].proto != charts[2].proto


def test_the_server_skips_streamlits_full_collection_after_every_run():
    """`runner.postScriptGC` off (.streamlit/config.toml): a full gc.collect after each run
    costs ~0.35 s of CPU under the GIL here, on every page switch."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
