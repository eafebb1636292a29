"""Background jobs keyed by name: at most N computing at once, the rest queued in order,
cooperative cancel, forward-only progress and a bounded list of live frames.

    jobs = Jobs(max_running=2)
    job = jobs.submit("train:<config>", work, cfg)   # work(job, cfg) runs in a worker thread
    job.snapshot()   # Snapshot(phase, frac, step, total, eta_s, message)
    job.frames()     # what the work published so far (history rows, ..., then the latest
                     # frame of each name: publish(frame, latest="map"))
    jobs.cancel(key)

The work receives its Job: it reports through `job.progress(frac, message)` (an
`explorer.core.progress.Progress`) and may `job.publish(frame)`. Cancel is cooperative: once
asked, the next `progress` or `publish` call raises `Cancelled` inside the work, which ends it
(a queued job is dropped at once). Progress only moves forward: a report with a smaller
fraction than one already shown is ignored, so a bar and its text never go backwards.

Submitting a key whose job is queued or running returns that job (two tabs of one link share
it); a finished key is replaced by the new submission. Finished jobs are kept, least recently
looked up first out, up to `keep_finished`; queued jobs up to `max_queued` (`Full` beyond).

Workers are threads: torch releases the GIL inside its kernels, and one intra-op thread
(`explorer.core.rng.fix_threads()`) keeps each op single-threaded, so numbers equal
those of a run in the caller's thread. Pure Python: no Streamlit, no torch.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, replace
from typing import Any, Callable

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = frozenset({DONE, FAILED, CANCELLED})
STEP = re.compile(r"^(?P<phase>.*?)\s*(?:step\s*)?(?P<step>\d+)\s*/\s*(?P<total>\d+)\s*$")


class Cancelled(Exception):
    """Raised inside a job's work at its next report once the job was asked to stop."""


class Full(RuntimeError):
    """The queue already holds `max_queued` jobs."""


@dataclass(frozen=True)
class Snapshot:
    """Where a job stands: the phase and step of its latest report (parsed from messages
    like 'training step 300/2500'), the overall fraction, and the estimated seconds left,
    counted down since the report. In a phase that counts steps, from that phase's own rate
    (seconds per step since its first report x steps left): its step total is a cap (DAS
    stops earlier once it converges), so the estimate is an upper bound (`eta_capped`);
    otherwise from the job's rate so far, elapsed x (1 - frac) / frac. (The job's fraction
    alone had read a slow last phase at the pace of the fast ones before it: its estimate
    grew while the steps advanced.)"""

    phase: str = ""
    frac: float = 0.0
    step: int | None = None
    total: int | None = None
    eta_s: float | None = None
    message: str = ""
    eta_capped: bool = False  # eta_s is the phase's time to its step cap: at most that


def parse(message: str) -> tuple[str, int | None, int | None]:
    """'DAS step 350/600' -> ('DAS', 350, 600); a message without a step is all phase."""
    found = STEP.match(message.strip())
    if found is None:
        return message.strip(), None, None
    return found["phase"], int(found["step"]), int(found["total"])


class Job:
    """One unit of work and what it has reported. Thread-safe."""

    def __init__(self, key: str, fn: Callable, args: tuple, kwargs: dict, max_frames: int):
        self.key, self._fn, self._args, self._kwargs = key, fn, args, kwargs
        self.state, self.result, self.error = QUEUED, None, None
        self.submitted, self.started, self.ended = time.time(), None, None
        self._frames: deque = deque(maxlen=max_frames)
        self._latest: dict[str, Any] = {}  # frames that replace their predecessor (by name)
        self._snapshot, self._reported = Snapshot(), time.time()
        self._phase_start: tuple[str, int, float] | None = None  # phase, step, time
        self._stop, self._done = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self.position: int | None = None  # 1 = next to start; None unless queued

    # --- what the work calls ----------------------------------------------------------
    def progress(self, frac: float, message: str = "") -> None:
        """Record a report (ignored if it would move backwards); raise Cancelled if asked."""
        self.check()
        frac = min(max(float(frac), 0.0), 1.0)
        phase, step, total = parse(message)
        with self._lock:
            old = self._snapshot
            if frac < old.frac or (frac == old.frac and phase == old.phase
                                   and step is not None and (old.step or 0) > step):
                return
            now = time.time()
            eta, capped = self._phase_eta(phase, step, total, now)
            if eta is None:
                elapsed = now - (self.started or now)
                eta = elapsed * (1 - frac) / frac if frac > 0 else None
            self._snapshot = Snapshot(phase, frac, step, total, eta, message, capped)
            self._reported = now

    def _phase_eta(self, phase: str, step: int | None, total: int | None,
                   now: float) -> tuple[float | None, bool]:
        """Seconds to the step cap at this phase's own rate, once it has one (lock held)."""
        if step is None or not total:
            return None, False
        start = self._phase_start
        if start is None or start[0] != phase or step < start[1]:
            self._phase_start = (phase, step, now)
            return None, False
        if step == start[1]:
            return None, False
        return (now - start[2]) / (step - start[1]) * max(total - step, 0), True

    def publish(self, frame: Any, latest: str | None = None) -> None:
        """Add a live frame (the oldest go beyond the cap); with `latest` (a name) the frame
        instead replaces the one published before under that name (e.g. a map that only
        matters as it is now: one is kept, whatever the run's length). Raise Cancelled if
        asked."""
        self.check()
        with self._lock:
            if latest is None:
                self._frames.append(frame)
            else:
                self._latest[latest] = frame

    def check(self) -> None:
        if self._stop.is_set():
            raise Cancelled(self.key)

    # --- what observers call ----------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def snapshot(self) -> Snapshot:
        """The latest report; its ETA counts down from the report's estimate since then."""
        with self._lock:
            snap, at = self._snapshot, self._reported
        if snap.eta_s is None or self.finished:
            return snap
        return replace(snap, eta_s=max(0.0, snap.eta_s - (time.time() - at)))

    def frames(self) -> list:
        """The frames in the order published, then the latest of each name."""
        with self._lock:
            return [*self._frames, *self._latest.values()]

    def elapsed(self) -> float:
        """Seconds computing so far (0 while queued)."""
        if self.started is None:
            return 0.0
        return (self.ended or time.time()) - self.started

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished; False on timeout."""
        return self._done.wait(timeout)

    # --- what the manager calls -------------------------------------------------------
    def _run(self) -> None:
        self.started = time.time()
        with self._lock:
            self._snapshot = Snapshot(phase="starting")
        try:
            self.check()
            self.result, state = self._fn(self, *self._args, **self._kwargs), DONE
            with self._lock:
                last = self._snapshot
                self._snapshot = Snapshot(last.phase, 1.0, last.step, last.total, 0.0,
                                          last.message)
        except Cancelled:
            state = CANCELLED
        except Exception as err:  # noqa: BLE001 - a failed job reports, the worker lives
            self.error, state = err, FAILED
        self._finish(state)

    def _finish(self, state: str) -> None:
        self.ended, self.state, self.position = time.time(), state, None
        self._fn = self._args = self._kwargs = None  # let go of inputs (models, configs)
        self._done.set()


class Jobs:
    """Jobs by key: `max_running` worker threads at most, a FIFO queue, finished jobs kept
    (LRU) up to `keep_finished`."""

    def __init__(self, max_running: int | None = None, keep_finished: int = 32,
                 max_queued: int = 64, max_frames: int = 1000):
        self.max_running = max(1, max_running or os.cpu_count() or 1)
        self.keep_finished, self.max_queued, self.max_frames = keep_finished, max_queued, max_frames
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: deque[Job] = deque()
        self._running = 0
        self._lock = threading.Lock()

    def submit(self, key: str, fn: Callable, *args, **kwargs) -> Job:
        """Queue fn(job, *args, **kwargs) under key; the active job when key already has one."""
        with self._lock:
            old = self._jobs.get(key)
            if old is not None and not old.finished:
                return old
            if len(self._queue) >= self.max_queued:
                raise Full(f"{len(self._queue)} jobs are already waiting; try again shortly")
            job = Job(key, fn, args, kwargs, self.max_frames)
            self._jobs[key] = job
            self._jobs.move_to_end(key)
            self._queue.append(job)
            self._renumber()
            start = self._running < self.max_running
            if start:
                self._running += 1
        if start:
            threading.Thread(target=self._worker, name=f"job-worker-{key[:40]}",
                             daemon=True).start()
        return job

    def get(self, key: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None:
                self._jobs.move_to_end(key)
            return job

    def cancel(self, key: str) -> bool:
        """Ask the job under key to stop. True when it was queued or running."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.finished:
                return False
            job._stop.set()
            if job.state == QUEUED:
                self._queue.remove(job)
                self._renumber()
                job._finish(CANCELLED)
            return True

    def active(self) -> list[Job]:
        """Running jobs, then queued ones in the order they will start."""
        with self._lock:
            running = [j for j in self._jobs.values() if j.state == RUNNING]
            return running + list(self._queue)

    def counts(self) -> dict[str, int]:
        with self._lock:
            states = [j.state for j in self._jobs.values()]
        return {s: states.count(s) for s in (QUEUED, RUNNING, DONE, FAILED, CANCELLED)}

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            jobs = self.active()
            if not jobs:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            jobs[0].wait(left if left is None else min(left, 0.5))

    def _worker(self) -> None:
        """Run queued jobs until the queue is empty, then leave (the thread ends)."""
        while True:
            with self._lock:
                if not self._queue:
                    self._running -= 1
                    return
                job = self._queue.popleft()
                job.state, job.position = RUNNING, None
                self._renumber()
            job._run()
            with self._lock:
                self._trim()

    def _renumber(self) -> None:
        for i, job in enumerate(self._queue):
            job.position = i + 1

    def _trim(self) -> None:
        """Forget the least recently used finished jobs beyond keep_finished."""
        finished = [k for k, j in self._jobs.items() if j.finished]
        for key in finished[: max(0, len(finished) - self.keep_finished)]:
            del self._jobs[key]
