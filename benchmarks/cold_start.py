"""Cold start: a fresh `streamlit run streamlit_app.py` on 127.0.0.1, then the page in
headless Chromium until the first chart is drawn (a Vega chart's SVG).

Per run, a new server process (nothing imported, nothing cached) and a new browser tab:

    server ready   process start -> /_stcore/health answers ok
    first chart    page navigation -> first `.vega-embed svg` (the script's first run:
                   imports, loading the shipped model, drawing)
    total          process start -> first chart
    server cpu     CPU seconds the server process used up to the first chart (user + sys):
                   on a busy machine wall times stretch, this does not
    load           the 1-minute load average before the run (2 cores: above 2, other work
                   competes for the CPU and the wall times above include the wait)

The browser is launched once, before the runs (a visitor's browser is already open).
Target: first chart <= 5 s on a 2-core machine once dependencies are installed.

    python benchmarks/cold_start.py [--runs 3] [--query "activation=sigmoid"]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser_support import (SVG_CHART, chromium_found, free_port,  # noqa: E402
                                   launch_chromium, start_server, stop_server, wait_healthy)

TARGET_S = 5.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(browser, query: str) -> dict[str, float]:
    load = os.getloadavg()[0]
    port = free_port()
    start = time.perf_counter()
    proc = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url, timeout=120, poll=0.02):
            raise RuntimeError("streamlit did not become healthy within 120 s")
        ready = time.perf_counter()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/?{query}" if query else url)
        page.wait_for_selector(SVG_CHART, timeout=120_000)
        chart = time.perf_counter()
        cpu = cpu_seconds(proc.pid)
        page.close()
    finally:
        stop_server(proc)
    return {"server_ready_s": ready - start, "first_chart_s": chart - ready,
            "total_s": chart - start, "server_cpu_s": cpu, "load": load}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--query", default="", help="query string, e.g. activation=sigmoid")
    args = parser.parse_args()
    if not chromium_found():
        print("no chromium found (set CHROMIUM=/path/to/chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        runs = [one_run(browser, args.query) for _ in range(args.runs)]
        browser.close()
    print(f"{'run':>4} {'server ready':>13} {'first chart':>12} {'total':>8} "
          f"{'server cpu':>11} {'load':>5}")
    for i, r in enumerate(runs, 1):
        print(f"{i:>4} {r['server_ready_s']:>12.2f}s {r['first_chart_s']:>11.2f}s "
              f"{r['total_s']:>7.2f}s {r['server_cpu_s']:>10.2f}s {r['load']:>5.1f}")
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median: server ready {med['server_ready_s']:.2f} s, first chart after page load "
          f"{med['first_chart_s']:.2f} s, total {med['total_s']:.2f} s, server CPU "
          f"{med['server_cpu_s']:.2f} s, load {med['load']:.1f} on {os.cpu_count()} cores "
          f"(target: first chart <= {TARGET_S:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
