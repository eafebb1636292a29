"""Issue 11 in headless Chromium: a training run is a background job that survives a page
switch and a config change and is then shown finished, with live curves that update while it
runs (and a DAS run's validation-IIA curve and leading map); Cancel stops one; on the shipped grid a slider move changes the shown IIA with no
button; no chart is wider than its column at 1280 px.

Same setup and skip rules as tests/browser/test_browser.py (its fixtures are reused).
"""

import time
from urllib.parse import urlencode

import pandas as pd
import pytest

from tests.browser_support import EXCEPTION, ROOT, WIDE
from tests.shipped_support import shipped_default, shipped_link
from tests.browser.test_browser import WAIT_MS, browser, open_app, page, server  # noqa: F401

# Slow (each waits for real background runs in a live server: 6 min for the four on 2 busy
# cores), so outside CI's 10-minute budget: run with `python -m pytest -m slow tests/browser`.
pytestmark = pytest.mark.slow

SIDEBAR_PROGRESS = '[data-testid="stSidebar"] [data-testid="stProgress"]'
SHIPPED = ROOT / "pretrained" / "models"
needs_shipped = pytest.mark.skipif(not list(SHIPPED.glob("relu-w16-l3-s0-*")),
                                   reason="pretrained/ not generated")


def loss_line(page):
    """The path of the training-loss curve (its `d` changes when the curve is redrawn)."""
    return page.locator(".vega-embed", has_text="Training loss").locator(".mark-line path")


def sidebar_status(page) -> str:
    texts = page.locator(SIDEBAR_PROGRESS).all_inner_texts()
    return texts[0] if texts else ""


def wait_for_status(page, needle: str, timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if needle in (text := sidebar_status(page)):
            return text
        page.wait_for_timeout(100)
    raise AssertionError(f"no sidebar status with {needle!r}; last: {sidebar_status(page)!r}")


def goto_page(page, name: str) -> None:
    page.locator('[data-testid="stRadioOption"]', has_text=name).click()


def test_a_run_survives_a_page_switch_and_a_config_change_and_its_curves_grow(page, server):
    # long enough (about 10 s here) to be still running after three redraws on a fast day
    open_app(page, f"{server}/?train_steps=8000&train_batch_size=256&eval_size=512&seed=41")
    page.get_by_role("button", name="Train").click()
    wait_for_status(page, "step")
    shapes, deadline = [], time.monotonic() + 120
    while len(set(shapes)) < 3 and time.monotonic() < deadline:  # the curve redrawn twice
        line = loss_line(page)
        if line.count():
            shapes.append(line.first.get_attribute("d"))
        page.wait_for_timeout(150)
    assert len(set(shapes)) >= 3, shapes
    assert page.get_by_text("Model ready").count() == 0  # still running
    goto_page(page, "DAS")
    page.get_by_text("Training in the background").wait_for(timeout=WAIT_MS)
    assert "step" in wait_for_status(page, "Training")
    seed = page.locator('[data-testid="stNumberInput"] input[aria-label="Seed"]')
    seed.fill("42")
    seed.press("Enter")
    page.get_by_text("No trained model for this configuration").wait_for(timeout=WAIT_MS)
    page.get_by_text("Your other runs").wait_for(timeout=WAIT_MS)
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Show it").click()
    page.get_by_text("Model ready (trained in this app)").wait_for(timeout=2 * WAIT_MS)
    assert seed.input_value() == "41"
    loss_line(page).first.wait_for(timeout=WAIT_MS)  # the finished model's curves
    assert page.locator(SIDEBAR_PROGRESS).count() == 0  # nothing runs, nothing refreshes
    assert page.locator(EXCEPTION).count() == 0


def test_cancel_stops_a_run(page, server):
    open_app(page, f"{server}/?train_steps=50000&eval_size=512&seed=43")
    page.get_by_role("button", name="Train").click()
    wait_for_status(page, "step")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Training was cancelled at step").wait_for(timeout=WAIT_MS)
    assert page.locator(SIDEBAR_PROGRESS).count() == 0
    assert page.get_by_role("button", name="Train", exact=True).is_enabled()
    assert page.get_by_text("Model ready").count() == 0
    assert page.locator(EXCEPTION).count() == 0


def _metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def iia_lines(page):
    """The paths of the DAS validation-IIA curve (one per restart)."""
    return page.locator(".vega-embed", has_text="DAS validation IIA").locator(".mark-line path")


@needs_shipped
def test_the_das_curve_and_its_map_grow_while_das_runs(page, server):
    """A DAS run off the grid (a long budget) on the shipped model: the validation-IIA curve
    is redrawn at least twice and the leading map is drawn while it runs; Cancel ends it."""
    link = {**shipped_link(), "das_steps": 20000, "das_patience": 20000, "page": "das"}
    open_app(page, f"{server}/?{urlencode(link)}")
    page.get_by_role("button", name="Run DAS").click()
    shapes, deadline = [], time.monotonic() + 120
    while len(set(shapes)) < 3 and time.monotonic() < deadline:
        lines = iia_lines(page)
        if lines.count():
            shapes.append(lines.first.get_attribute("d"))
        page.wait_for_timeout(150)
    assert len(set(shapes)) >= 3, shapes
    page.get_by_text("kept map of restart").first.wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="Cancel").first.click()
    page.get_by_text("cancelled").first.wait_for(timeout=WAIT_MS)
    assert page.locator(EXCEPTION).count() == 0


@needs_shipped
def test_a_slider_move_on_the_shipped_grid_changes_the_iia_without_a_button(page, server):
    open_app(page, f"{server}/?{urlencode(shipped_link())}&page=das")
    page.get_by_text("Precomputed DAS IIA").wait_for(timeout=WAIT_MS)
    table = pd.read_csv(ROOT / "pretrained" / "results.csv")
    das = table[(table.das_steps == shipped_default().das.das_steps) & (table.method == "das")
                & (table.activation == "relu") & (table.width == 16)
                & (table.seed == 0) & (table.k == 8) & (table.hypothesis == "both")]
    expected = {int(r.site): f"{r.iia:.3f}" for r in das.itertuples()}
    assert _metric(page, "Precomputed DAS IIA") == expected[1]
    thumb = page.locator('input[type="range"][aria-label="Site (0 = input)"]')
    thumb.focus()
    thumb.press("ArrowRight")  # site 1 -> 2, no button pressed
    page.wait_for_function(
        """v => Array.from(document.querySelectorAll('[data-testid="stMetric"]')).some(m =>
             m.innerText.includes('Precomputed DAS IIA') && m.innerText.includes(v))""",
        arg=expected[2], timeout=WAIT_MS)
    assert expected[1] != expected[2]
    assert page.locator(EXCEPTION).count() == 0


@needs_shipped
def test_no_chart_is_wider_than_its_column_at_1280px(browser, server):  # noqa: F811
    tab = browser.new_page(viewport={"width": 1280, "height": 1400})
    try:
        for name, charts in (("train", 2), ("geometry", 3), ("das", 2)):
            open_app(tab, f"{server}/?{urlencode(shipped_link())}&page={name}")
            tab.wait_for_function(f"document.querySelectorAll('.vega-embed svg').length >= "
                                  f"{charts}", timeout=WAIT_MS)
            tab.wait_for_timeout(500)  # the last resize
            for svg, box, label in tab.evaluate(WIDE):
                assert svg <= box + 1, (name, label, svg, box)
    finally:
        tab.close()
