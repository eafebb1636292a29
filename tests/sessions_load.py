"""Ten app sessions at once, each training a model and then running DAS as background jobs,
in a fresh process (run by tests/test_jobs_app.py, or alone: `python -m tests.sessions_load`).

Every session presses Train before any job has finished (so 10 jobs are submitted together:
os.cpu_count() compute, the rest wait with their queue position on the page; training is long
enough, 800 steps, that the first ones are still computing when the later presses come),
then every
session presses Run DAS the same way. Prints one JSON line: sessions finished, the queue
positions seen, the seconds a fresh session's page took while jobs ran, and the process's
peak resident memory (VmHWM, MB).
"""

from __future__ import annotations

import json
import re
import sys
import time

from explorer.core.rng import fix_threads
from tests.app_driver import finish_jobs, goto, metric, open_app

SESSIONS = 10
CONFIG = dict(train_steps="800", train_batch_size="256", eval_size="256", das_steps="20",
              restarts="2", k="2", n_train_pairs="256", n_val_pairs="128", n_test_pairs="256",
              n_search_pairs="128")


def peak_mb() -> float:
    status = open("/proc/self/status").read()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def queued(at) -> list[int]:
    """Queue positions the page shows (the sidebar's live panel)."""
    texts = [e.proto.text for e in at.get("progress")]
    return [int(m) for t in texts for m in re.findall(r"queued, position (\d+)", t)]


def main() -> dict:
    fix_threads()
    sessions = [open_app({**CONFIG, "seed": str(900 + i)}) for i in range(SESSIONS)]
    positions = []
    for at in sessions:
        at.button(key="train_button").click().run()  # the page is redrawn with the panel
        assert not at.exception, at.exception
        positions += queued(at)
    start = time.perf_counter()
    open_app({"page": "share", "seed": "7"})  # another session's page while jobs run
    page_s = time.perf_counter() - start
    finish_jobs(600)
    for at in sessions:
        goto(at, "das")
        assert metric(at, "Held-out task accuracy") is not None
        at.button(key="das_button").click().run()
        assert not at.exception, at.exception
    finish_jobs(600)
    done = 0
    for at in sessions:  # the share page is the lightest that shows a finished run
        goto(at, "share")
        done += any(b.proto.label == "Rotation (CSV)" for b in at.get("download_button"))
    return {"sessions": SESSIONS, "finished": done, "queue_positions": sorted(set(positions)),
            "page_s_while_busy": round(page_s, 2), "vm_hwm_mb": round(peak_mb(), 1)}


if __name__ == "__main__":
    print(json.dumps(main()))
    sys.stdout.flush()
