"""The local executor of sweeps and the study: tasks run in worker processes (spawned, so
each starts clean) and results come back as each task finishes.

Workers never outlive their parent: each runs a watchdog thread that polls the parent's
pid and ends the worker at once when the parent is gone (a `kill -9` of the main process
leaves no orphan computing and writing). The multiprocessing resource tracker then sees
its last client go and exits too. When the caller stops early (an error, Ctrl-C), tasks
not yet started are cancelled.

This module imports nothing heavy: a worker starts by importing it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, Iterable

POLL_SECONDS = 0.25  # how soon an orphaned worker notices


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: end this process as soon as `parent` is no longer its parent."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def run_local(fn: Callable[..., Any], tasks: list[tuple], *,
              workers: int) -> Iterable[tuple[int, Any]]:
    """Yield (i, fn(*tasks[i])) as tasks finish: in this process, in order, when `workers`
    is 1; else in up to `workers` processes, in the order they finish. `fn` must be
    importable (a module-level function)."""
    if workers < 1:
        raise ValueError(f"workers: must be at least 1 (got {workers})")
    if workers == 1:
        for i, args in enumerate(tasks):
            yield i, fn(*args)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(max(1, min(workers, len(tasks))), mp_context=mp.get_context("spawn"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(fn, *args): i for i, args in enumerate(tasks)}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
