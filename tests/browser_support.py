"""`streamlit run` on 127.0.0.1 and headless Chromium, shared by the browser tests and
benchmarks/cold_start.py.

Needs Debian's chromium (Playwright cannot download its own browser here): `CHROMIUM`
names it (override with the CHROMIUM environment variable).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIDEBAR_READY = '[data-testid="stSidebar"] [data-testid="stSlider"]'
SVG_CHART = ".vega-embed svg"
EXCEPTION = '[data-testid="stException"]'
# per drawn chart: [its SVG's width, its element container's width, its title]
WIDE = '''() => Array.from(document.querySelectorAll('.vega-embed svg')).map(svg => {
  const box = svg.closest('[data-testid="stElementContainer"]') || svg.parentElement;
  const title = svg.querySelector('.role-title-text');
  return [svg.getBoundingClientRect().width, box.getBoundingClientRect().width,
          title ? title.textContent : '']; })'''


def chromium_found() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    """`streamlit run streamlit_app.py` on 127.0.0.1:port, output discarded."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
         "true", "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_healthy(url: str, timeout: float = 90.0, poll: float = 0.05) -> bool:
    """Poll /_stcore/health until it answers ok; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return True
        except OSError:
            time.sleep(poll)
    return False


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_server(timeout: float = 90.0):
    """A started, healthy server's URL; stopped on exit. Raises RuntimeError if it never
    became healthy."""
    port = free_port()
    proc = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url, timeout):
            raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f} s")
        yield url
    finally:
        stop_server(proc)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
