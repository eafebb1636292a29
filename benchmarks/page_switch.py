"""Page switch: how long from a click on a page's name until that page is drawn, in headless
Chromium against `streamlit run streamlit_app.py`, and how much of it is the script run.

One server, a tab 1280 px wide on the link (`--query`; by default the defaults, which open on
the shipped model; `--train` presses the sidebar's Train first, for a configuration with no
shipped model, e.g. width=128). Once its first page is drawn, every page is visited in turn
(Hidden geometry, ..., Findings, then Train again), `--repeats` rounds, then one round in a
second tab (a new session on the now warm server):

    browser   press on the page radio's option -> the script run is over and the page drawn:
              stApp's data-test-script-state notRunning, the running indicator
              `stStatusWidget` gone, no stale element of the page before left, and the
              page's own text shown, with its first chart where the page draws one without
              a button (`MARKS`)
    cold      round 1: the first visit to the page in this server process (nothing cached;
              Train's is a return, it was drawn when the tab opened)
    repeat    rounds 2..: the same session again, caches warm
    new tab   a new session's first visit to the page, on the warm server
    question  on the Findings page (round 1's tab, after its rounds), a press on each of its
              questions and "All" (`QUESTION_ORDER`) -> that choice drawn: the fragment's run
              over, its question's heading shown (the previous one's gone) and every chart on
              the page drawn as SVG (a stricter mark than a page's first chart)
    server    CPU seconds the server process used from the click to the page drawn (all its
              threads, background jobs included), and
    chromium  those of the browser's processes (layout, Vega drawing the charts): on a busy
              machine wall times stretch, these much less

Then the same switches in-process (`streamlit.testing.v1.AppTest`, no browser, in this
process's own fresh caches): `script` is the whole script run, `render` the page's render
function alone (wrapped with a timer), so browser - script is the transport and drawing in
the browser, and script - render the sidebar, header and tour every run draws.

Background jobs the pages start (the geometry page's probes) keep running while the next
pages are timed, as they would for a visitor. `load` is the 1-minute load average (2 cores:
above 2, other work competes for the CPU and every time includes the wait).
Target: every page switch <= 1 s.

    python benchmarks/page_switch.py [--repeats 3] [--query "width=128" --train]
                                     [--skip-browser | --skip-script] [--skip-questions]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.cold_start import cpu_seconds  # noqa: E402
from explorer.study.sections import QUESTIONS  # noqa: E402
from tests.browser_support import (EXCEPTION, ROOT, chromium_found, free_port,  # noqa: E402
                                   launch_chromium, start_server, stop_server, wait_healthy)

TARGET_S = 1.0
WAIT_MS = 180_000
TRAIN_MS = 900_000  # --train: the model's training, in the background
ORDER = ("geometry", "neuron", "das", "swaps", "share", "findings", "train")
LABELS = {"train": "Train", "geometry": "Hidden geometry", "neuron": "Neuron-wise search",
          "das": "DAS", "swaps": "Swap interventions", "share": "Share & export",
          "findings": "Findings"}  # streamlit_app.PAGES (not imported: it runs the app)
# Per page: text its render draws near the top at any settings, and whether it draws a chart
# at the defaults without a button (then the first `.vega-embed svg` is waited for too).
MARKS = {"train": ("Hierarchical equality", True),
         "geometry": ("PCA of hidden states at each site", True),
         "neuron": ("individual units of site", False),
         "das": ("rotated coordinates per variable", False),
         "swaps": ("Draw a base input", False),
         "share": ("Every setting is in this link", False),
         "findings": ("Answers from the shipped study", True)}
NAV = ".st-key-page"  # the page radio's container (its widget key is "page")
QUESTION_NAV = ".st-key-findings_question"  # the Findings page's question selector
# (button, heading that must show, heading that must be gone), each press another choice
# than the one before: questions 2..6, All, then 1 (app.findings.choice_label)
_HEADINGS = [f"{q.number}. {q.title}" for q in QUESTIONS]
QUESTION_ORDER = ([(f"{q.number} · {q.label}", _HEADINGS[i], _HEADINGS[i - 1])
                   for i, q in enumerate(QUESTIONS) if i > 0]
                  + [("All", _HEADINGS[0], None),
                     (f"1 · {QUESTIONS[0].label}", _HEADINGS[0], _HEADINGS[-1])])

# Installed before each click: the press's time (page clock) and whether stApp's script-run
# state was seen to leave notRunning (a fast run may never show in the DOM: React can batch
# running -> notRunning into one render, so completion is read from the page, not from it).
WATCH_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const w = window.__switch = {t0: null, ran: false, done: null};
  document.addEventListener('pointerdown', () => { w.t0 = performance.now(); },
                            {capture: true, once: true});
  if (window.__switchObserver) window.__switchObserver.disconnect();
  window.__switchObserver = new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') !== 'notRunning') w.ran = true;
  });
  window.__switchObserver.observe(app, {attributes: true,
                                        attributeFilter: ['data-test-script-state']});
}"""
# The part DONE_JS and QUESTION_DONE_JS share: the script run over, no running indicator,
# no stale element of what was shown before, and `text` on the page (`settled`; `main` is
# the page's main area).
SETTLED_JS = """
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  const settled = app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-stale="true"]')
    && main && main.innerText.includes(text);"""
# True (and the time noted) once the run is over and the page is drawn: settled (each
# page's MARKS text is its alone) and its first chart shown where it has one.
DONE_JS = """([text, chart]) => {
  const w = window.__switch;
  if (w.done !== null) return true;""" + SETTLED_JS + """
  if (w.t0 === null || !settled || (chart && !main.querySelector('.vega-embed svg')))
    return false;
  w.done = performance.now();
  return true;
}"""


DRAWN_JS = """([text, chart]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && main && main.innerText.includes(text)
    && (!chart || main.querySelector('.vega-embed svg'));
}"""
VISITS = ("cold", "repeat", "new tab")
# A question drawn: the run over, its heading shown and the one before gone, no stale
# element, and every chart on the page (folded ones too: they are drawn) an SVG.
QUESTION_DONE_JS = """([text, gone]) => {
  const w = window.__switch;
  if (w.done !== null) return true;""" + SETTLED_JS + """
  if (w.t0 === null || !settled || (gone && main.innerText.includes(gone))) return false;
  const charts = [...main.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  if (charts.some((c) => !c.querySelector('svg'))) return false;
  w.done = performance.now();
  return true;
}"""


def load() -> float:
    return os.getloadavg()[0]


def open_tab(browser, url: str, train: bool):
    """A 1280-px tab on url once its first page (Train) is drawn (after training, with
    `train`). Returns (tab, seconds to the first page drawn)."""
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    start = time.perf_counter()
    tab.goto(url)
    text, chart = MARKS["train"]
    if train:
        tab.wait_for_function(DRAWN_JS, arg=[text, False], timeout=WAIT_MS, polling=20)
        start = time.perf_counter()  # the model still has to be trained: time that apart
        tab.locator(".st-key-train_button button").first.click()
        tab.get_by_text("Model ready").wait_for(timeout=TRAIN_MS)
        print(f"trained in {time.perf_counter() - start:.1f} s (load {load():.2f})")
    tab.wait_for_function(DRAWN_JS, arg=[text, chart], timeout=WAIT_MS, polling=20)
    return tab, time.perf_counter() - start


def switch(tab, page: str, pid: int) -> tuple[float, float, float]:
    """Click the page's name in the nav radio; (seconds until it is drawn, on the page's
    clock; the server's and the browser's CPU seconds meanwhile)."""
    tab.evaluate(WATCH_JS)
    server, browser = cpu_seconds(pid), browser_cpu(pid)
    option = tab.locator(f'{NAV} [data-testid="stRadioOption"]').filter(
        has=tab.get_by_text(LABELS[page], exact=True))
    option.click()
    tab.wait_for_function(DONE_JS, arg=list(MARKS[page]), timeout=WAIT_MS, polling="raf")
    server, browser = cpu_seconds(pid) - server, browser_cpu(pid) - browser
    if tab.locator(EXCEPTION).count():
        raise RuntimeError(f"the {page} page shows an exception")
    w = tab.evaluate("window.__switch")
    return (w["done"] - w["t0"]) / 1000, server, browser


def ask(tab, label: str, text: str, gone: str | None, pid: int) -> tuple[float, float, float]:
    """On the Findings page, press a question's button; as `switch`, until it is drawn."""
    tab.evaluate(WATCH_JS)
    server, browser = cpu_seconds(pid), browser_cpu(pid)
    tab.locator(f"{QUESTION_NAV} button").filter(has_text=label).click()
    tab.wait_for_function(QUESTION_DONE_JS, arg=[text, gone], timeout=WAIT_MS, polling="raf")
    server, browser = cpu_seconds(pid) - server, browser_cpu(pid) - browser
    if tab.locator(EXCEPTION).count():
        raise RuntimeError(f"the Findings page shows an exception after {label}")
    w = tab.evaluate("window.__switch")
    return (w["done"] - w["t0"]) / 1000, server, browser


def browser_cpu(server: int) -> float:
    """CPU seconds of this process's descendants but the server: Playwright's driver and
    the browser it launched (all of Chromium's processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    total, todo = 0.0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        if pid == server:
            continue
        try:
            total += cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue
        todo += children.get(pid, [])
    return total


def browser_times(query: str, repeats: int, train: bool, questions: bool = True) -> dict:
    """{"seconds": {visit: {page: [s, ...]}}, "server" and "chromium": the same in CPU
    seconds, "first": seconds to the first page, "load": (before, after); "questions":
    {"seconds" | "server" | "chromium": {button: [s, ...]}} (with `questions`)}."""
    from playwright.sync_api import sync_playwright

    out = {name: {v: {p: [] for p in ORDER} for v in VISITS}
           for name in ("seconds", "server", "chromium")}
    out["questions"] = {name: {label: [] for label, _, _ in QUESTION_ORDER}
                        for name in ("seconds", "server", "chromium")}
    out["load"] = [load()]
    port = free_port()
    proc = start_server(port)
    url = f"http://127.0.0.1:{port}"
    link = f"{url}/?{query}" if query else url
    try:
        if not wait_healthy(url, timeout=120):
            raise RuntimeError("streamlit did not become healthy within 120 s")
        with sync_playwright() as p:
            browser = launch_chromium(p)
            tab, out["first"] = open_tab(browser, link, train)
            for i in range(repeats):
                for page in ORDER:
                    _note(out, "cold" if i == 0 else "repeat", page, switch(tab, page, proc.pid))
            if questions:
                switch(tab, "findings", proc.pid)  # on question 1 (its default)
                for _ in range(repeats):
                    for label, text, gone in QUESTION_ORDER:
                        measured = ask(tab, label, text, gone, proc.pid)
                        for name, value in zip(("seconds", "server", "chromium"), measured):
                            out["questions"][name][label].append(value)
                switch(tab, "train", proc.pid)
            tab.close()
            tab, _ = open_tab(browser, link, False)  # the model is in the shared store now
            for page in ORDER:
                _note(out, "new tab", page, switch(tab, page, proc.pid))
            browser.close()
    finally:
        stop_server(proc)
    out["load"].append(load())
    return out


def _note(out: dict, visit: str, page: str, measured: tuple[float, float, float]) -> None:
    for name, value in zip(("seconds", "server", "chromium"), measured):
        out[name][visit][page].append(value)


def script_times(query: str, repeats: int, train: bool) -> dict:
    """The same switches in-process (AppTest): {"script": {visit: {page: [s]}}, "render":
    the same for the page's render function, "first": the first run's seconds, "load"}."""
    from streamlit.testing.v1 import AppTest

    from tests.app_driver import click

    out = {"load": [load()], "script": {v: {p: [] for p in ORDER} for v in VISITS}}
    out["render"] = {v: {p: [] for p in ORDER} for v in VISITS}
    current = {"visit": None}
    for page, module in _page_modules().items():
        module.render = _timed(module.render, out["render"], current, page)

    def session() -> AppTest:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
        at.query_params.update(dict(parse_qsl(query)))
        return at.run()

    start = time.perf_counter()
    at = session()
    out["first"] = time.perf_counter() - start
    if train:
        start = time.perf_counter()
        at = click(at, "train_button", timeout=TRAIN_MS / 1000)
        print(f"trained in-process in {time.perf_counter() - start:.1f} s (load {load():.2f})")
    for visit, tab, rounds in (("cold", at, 1), ("repeat", at, repeats - 1),
                               ("new tab", None, 1)):
        current["visit"] = None
        tab = tab or session()
        current["visit"] = visit
        for _ in range(rounds):
            for page in ORDER:
                start = time.perf_counter()
                tab.radio(key="page").set_value(page).run()
                out["script"][visit][page].append(time.perf_counter() - start)
                if tab.exception:
                    raise RuntimeError(f"the {page} page raised: {tab.exception[0].message}")
    out["load"].append(load())
    return out


def _timed(render, into: dict, current: dict, page: str):
    """render, noting its seconds under the current visit (none while a session opens)."""
    def timed(cfg, entry):
        start = time.perf_counter()
        try:
            return render(cfg, entry)
        finally:
            if current["visit"] is not None:
                into[current["visit"]][page].append(time.perf_counter() - start)
    return timed


def _page_modules():
    """{page: the module whose `render` streamlit_app.PAGES names (each run looks it up
    anew, so a wrapped render is the one that runs)."""
    from app import findings
    from app.pages import das, geometry, neuron, share, swaps, train
    return {"train": train, "geometry": geometry, "neuron": neuron, "das": das,
            "swaps": swaps, "share": share, "findings": findings}


def report(title: str, times: dict, cpu: dict | None = None) -> None:
    """One line per page and visit: median and max seconds (and the median CPU seconds of
    each of `cpu`'s processes), against the target."""
    cpu = cpu or {}
    print(f"\n{title}\n{'page':<20} {'visit':<8} {'median':>7} {'max':>7}"
          + "".join(f" {name + ' cpu':>12}" for name in cpu) + f"  target {TARGET_S:.0f} s")
    for page in ORDER:
        for visit in VISITS:
            values = times[visit][page]
            if not values:
                continue
            line = (f"{LABELS[page]:<20} {visit:<8} {statistics.median(values):>6.2f}s "
                    f"{max(values):>6.2f}s")
            line += "".join(f" {statistics.median(used[visit][page]):>11.2f}s"
                            for used in cpu.values())
            print(line, "  ok" if max(values) <= TARGET_S else "  over")


def report_questions(times: dict) -> None:
    """One line per Findings question: median and max seconds, server and Chromium CPU."""
    print(f"\nFindings questions (browser): press -> drawn, every chart SVG\n"
          f"{'question':<20} {'median':>7} {'max':>7} {'server cpu':>12} {'chromium cpu':>12}"
          f"  target {TARGET_S:.0f} s")
    for label, values in times["seconds"].items():
        if values:
            print(f"{label:<20} {statistics.median(values):>6.2f}s {max(values):>6.2f}s "
                  f"{statistics.median(times['server'][label]):>11.2f}s "
                  f"{statistics.median(times['chromium'][label]):>11.2f}s",
                  "  ok" if max(values) <= TARGET_S else "  over")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--query", default="", help="query string, e.g. width=128")
    parser.add_argument("--train", action="store_true",
                        help="press Train first (a configuration with no shipped model)")
    parser.add_argument("--skip-browser", action="store_true",
                        help="only the in-process script times")
    parser.add_argument("--skip-script", action="store_true", help="only the browser times")
    parser.add_argument("--skip-questions", action="store_true",
                        help="no presses on the Findings page's questions")
    args = parser.parse_args()
    print(f"page switch: query {args.query or '(defaults)'}, {args.repeats} rounds, "
          f"{os.cpu_count()} cores")
    if not args.skip_browser:
        if not chromium_found():
            print("no chromium found (set CHROMIUM=/path/to/chromium)", file=sys.stderr)
            return 2
        b = browser_times(args.query, max(args.repeats, 1), args.train,
                          not args.skip_questions)
        report(f"browser: click -> page drawn (load {b['load'][0]:.2f} before, "
               f"{b['load'][1]:.2f} after; first page drawn {b['first']:.2f} s after "
               "navigation)", b["seconds"], {k: b[k] for k in ("server", "chromium")})
        report_questions(b["questions"])
    if not args.skip_script:
        s = script_times(args.query, max(args.repeats, 1), args.train)
        report(f"script run, in-process AppTest (load {s['load'][0]:.2f} before, "
               f"{s['load'][1]:.2f} after; first run {s['first']:.2f} s)", s["script"])
        report("of which the page's render function", s["render"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
