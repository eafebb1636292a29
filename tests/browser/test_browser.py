"""End to end in headless Chromium: `streamlit run` on 127.0.0.1, train, run DAS, check the
charts render as SVG (heatmap cells included), that no exception element appears, and that
a URL with query parameters restores its configuration; the app opens on the shipped
model, and the checkpoint uploader (the real widget) rejects a bad file and uses a good one;
a Findings question chosen in its fragment replaces the sections and reaches the link, and
a median table is drawn once its expander is opened.

Needs Debian's chromium (Playwright cannot download its own browser here). Without it the
tests skip, except under CI (CI=true), where a missing browser is a failure.
"""

import os

import pytest

from tests.browser_support import (CHROMIUM, EXCEPTION, ROOT, SIDEBAR_READY, SVG_CHART, WIDE,
                                   chromium_found, launch_chromium, running_server)

SMALL = ("train_steps=300&eval_size=512&das_steps=40&restarts=1&k=2&n_train_pairs=512"
         "&n_val_pairs=128&n_test_pairs=256&n_search_pairs=128")
WAIT_MS = 120_000


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not chromium_found():
        _unavailable(f"no chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server():
    try:
        with running_server() as url:
            yield url
    except RuntimeError as err:
        pytest.fail(str(err))


@pytest.fixture
def page(browser):
    tab = browser.new_page(viewport={"width": 1400, "height": 1800})
    yield tab
    tab.close()


def open_app(page, url: str):
    page.goto(url)
    page.wait_for_selector(SIDEBAR_READY, timeout=WAIT_MS)
    return page


def svg_charts(page) -> int:
    return page.locator(SVG_CHART).count()


def test_train_then_das_renders_svg_charts_and_heatmap_cells(page, server):
    open_app(page, f"{server}/?{SMALL}&seed=21")
    page.get_by_role("button", name="Train").click()
    page.get_by_text("Model ready").wait_for(timeout=WAIT_MS)
    page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 3",
                           timeout=WAIT_MS)
    assert page.locator(".vega-embed canvas").count() == 0  # every chart asked for SVG
    page.locator('[data-testid="stRadioOption"]', has_text="DAS").click()
    page.get_by_role("button", name="Run DAS").click()
    page.get_by_text("Controls", exact=True).wait_for(timeout=WAIT_MS)
    page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 5",
                           timeout=WAIT_MS)
    # R and its closest signed permutation: 16 x 16 cells each, drawn as rect marks
    cells = page.locator(".vega-embed svg .mark-rect path")
    assert cells.count() >= 2 * 16 * 16
    assert page.get_by_text("DAS IIA (test pairs)").count() == 1
    assert page.locator(EXCEPTION).count() == 0


def test_query_parameters_restore_the_configuration(page, server):
    params = "width=8&layers=2&seed=5&hypothesis=left&k=3&activation=tanh&page=das"
    open_app(page, f"{server}/?{SMALL}&{params}")
    page.get_by_text("No trained model for this configuration").wait_for(timeout=WAIT_MS)

    def slider(label):
        return page.locator('[data-testid="stSlider"]', has_text=label).locator("input").first

    assert slider("Hidden width").input_value() == "8"
    assert slider("Hidden layers").input_value() == "2"
    assert slider("k (dims per variable)").input_value() == "3"
    assert page.locator('input[aria-label="Activation"]').input_value() == "tanh"
    assert page.locator('input[aria-label="Hypothesis"]').input_value().startswith("Left")
    assert page.locator('[data-testid="stNumberInput"] input[aria-label="Seed"]'
                        ).input_value() == "5"
    selected = page.locator('[data-testid="stRadioOption"][data-selected="true"]')
    assert selected.first.inner_text().strip() == "DAS"
    page.wait_for_function("location.search.includes('width=8')", timeout=WAIT_MS)
    assert "activation=tanh" in page.url and "k=3" in page.url
    assert page.locator(EXCEPTION).count() == 0


def test_an_invalid_link_shows_an_error_not_a_traceback(page, server):
    open_app(page, f"{server}/?{SMALL}&k=99&activation=softplus")
    page.get_by_text("Some link parameters were invalid").wait_for(timeout=WAIT_MS)
    assert page.locator('[data-testid="stAlertContentError"]').count() >= 1
    assert page.locator(EXCEPTION).count() == 0


SHIPPED = ROOT / "pretrained" / "models"
needs_shipped = pytest.mark.skipif(not list(SHIPPED.glob("relu-w16-l3-s0-*")),
                                   reason="pretrained/ not generated")


@needs_shipped
def test_opens_on_the_shipped_model_with_a_chart_and_precomputed_das(page, server):
    from urllib.parse import urlencode

    from tests.shipped_support import BASE_PARAMS  # the defaults the shipped table holds

    open_app(page, f"{server}/?{urlencode(BASE_PARAMS)}" if BASE_PARAMS else server)
    page.get_by_text("Model ready (shipped checkpoint)").wait_for(timeout=WAIT_MS)
    page.wait_for_selector(SVG_CHART, timeout=WAIT_MS)  # without pressing anything
    page.locator('[data-testid="stRadioOption"]', has_text="DAS").click()
    page.get_by_text("Precomputed DAS IIA").wait_for(timeout=WAIT_MS)
    assert page.locator(EXCEPTION).count() == 0


@needs_shipped
def test_uploading_a_bad_then_a_good_checkpoint(page, server, tmp_path):
    from explorer.store import checkpoints
    from explorer.core.config import RunConfig
    from explorer.core.train import new_model

    open_app(page, f"{server}/?seed=3")
    page.get_by_text("Model ready (shipped checkpoint)").wait_for(timeout=WAIT_MS)
    page.get_by_text("Upload a checkpoint").click()
    upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    other = tmp_path / "model.pt"  # the widget itself refuses other extensions
    other.write_bytes(b"\x00" * 100)
    upload.set_input_files(str(other))
    page.wait_for_timeout(1500)
    assert page.locator(EXCEPTION).count() == 0
    assert page.get_by_text("Model ready (shipped checkpoint)").count() == 1
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x00" * 100)
    upload.set_input_files(str(bad))
    page.get_by_text("broken.safetensors was not loaded").wait_for(timeout=WAIT_MS)
    assert page.get_by_text("Model ready (shipped checkpoint)").count() == 1  # kept
    cfg = RunConfig().with_values(seed=3, train_steps=250)
    good = tmp_path / "mine.safetensors"
    good.write_bytes(checkpoints.to_bytes(new_model(cfg), cfg))
    upload.set_input_files(str(good))
    page.get_by_text("Model ready (uploaded mine.safetensors)").wait_for(timeout=WAIT_MS)
    page.wait_for_function("location.search.includes('train_steps=250')", timeout=WAIT_MS)
    assert page.locator(EXCEPTION).count() == 0


@pytest.mark.skipif(not (ROOT / "pretrained" / "study" / "search.csv").exists(),
                    reason="no shipped study")
def test_a_findings_question_redraws_its_own_sections_and_the_link(page, server):
    """The question selector is a fragment: a click there reruns only it, so its own
    sync of the link is what puts the question in the URL."""
    open_app(page, f"{server}/?page=findings")
    page.get_by_text("1a · DAS vs neuron-wise").wait_for(timeout=WAIT_MS)
    page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 2",
                           timeout=WAIT_MS)
    assert page.get_by_text("4a · IIA vs k per activation and site").count() == 0
    page.locator(".st-key-findings_question button", has_text="4 · Dims").click()
    page.get_by_text("4a · IIA vs k per activation and site").wait_for(timeout=WAIT_MS)
    page.wait_for_function("location.search.includes('findings_question=4')",
                           timeout=WAIT_MS)
    page.wait_for_function("!document.querySelector('[data-stale=\"true\"]')", timeout=WAIT_MS)
    assert page.get_by_text("1a · DAS vs neuron-wise").count() == 0
    assert "page=findings" in page.url
    tables = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]')
    assert tables.count() == 0  # the median tables are drawn only once opened
    page.get_by_text("Exact input alignments scored directly").click()
    tables.first.wait_for(timeout=WAIT_MS)
    assert tables.count() == 1
    assert page.locator(EXCEPTION).count() == 0


@pytest.mark.parametrize("width", [1280, pytest.param(1400, marks=pytest.mark.slow),
                                   pytest.param(1920, marks=pytest.mark.slow)])
def test_no_findings_chart_is_wider_than_its_column(browser, server, width):
    """Every Findings chart at once (All), legends and facets included, within its column
    (at 1280 px six of them were not: a legend beside four panels). The charts keep their
    own widths and the wide layout's column grows with the window, so 1280 px, the
    narrowest, runs in CI; 1400 and 1920 px are slow-marked (14 s each)."""
    tab = browser.new_page(viewport={"width": width, "height": 1400})
    try:
        open_app(tab, f"{server}/?page=findings&findings_question=all")
        tab.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 10",
                              timeout=WAIT_MS)
        tab.wait_for_timeout(1000)  # the last resize
        charts = tab.evaluate(WIDE)
        assert len(charts) >= 10
        for svg, box, label in charts:
            assert svg <= box + 1, (width, label, svg, box)
    finally:
        tab.close()
