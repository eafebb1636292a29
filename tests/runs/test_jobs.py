"""explorer.runs.jobs against plain functions: results, the bound on running jobs, FIFO
order and queue positions, cancel (queued and running), forward-only progress, one job per
key while active, failures, bounded memory, and a torch run in a worker thread that gives
the same numbers as in the caller's thread."""

import threading
import time

import pytest
import torch

import explorer.runs.jobs as jobs_module

from explorer.core.config import tiny
from explorer.core.train import train_model
from explorer.runs.jobs import (CANCELLED, DONE, FAILED, QUEUED, RUNNING, Cancelled, Full, Job,
                                Jobs, parse)

WAIT = 10


def square(job, x):
    return x * x


def blocked(job, gate: threading.Event, log: list, name: str):
    """Record the start, wait for the gate (reporting, so a cancel can land), record the end."""
    log.append(("start", name))
    while not gate.wait(0.01):
        job.progress(0.1, f"{name} waiting")
    log.append(("end", name))
    return name


def test_results_equal_the_plain_function():
    jobs = Jobs(max_running=2)
    submitted = [jobs.submit(f"sq{x}", square, x) for x in range(7)]
    assert jobs.wait_idle(WAIT)
    assert [j.result for j in submitted] == [square(None, x) for x in range(7)]
    assert all(j.state == DONE and j.snapshot().frac == 1.0 for j in submitted)


def test_at_most_n_run_and_the_rest_wait_in_order_with_their_position():
    jobs, gate, log = Jobs(max_running=2), threading.Event(), []
    running, peak, lock = [0], [0], threading.Lock()

    def counted(job, name):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return blocked(job, gate, log, name)
        finally:
            with lock:
                running[0] -= 1

    submitted = [jobs.submit(f"j{i}", counted, f"j{i}") for i in range(6)]
    deadline = time.monotonic() + WAIT
    while sum(j.state == RUNNING for j in submitted) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [j.state for j in submitted] == [RUNNING] * 2 + [QUEUED] * 4
    assert [j.position for j in submitted] == [None, None, 1, 2, 3, 4]
    assert [j.key for j in jobs.active()] == [f"j{i}" for i in range(6)]
    gate.set()
    assert jobs.wait_idle(WAIT)
    assert peak[0] == 2
    starts = [name for event, name in log if event == "start"]
    assert starts[:2] == sorted(starts[:2]) and starts[2:] == ["j2", "j3", "j4", "j5"]
    assert [j.result for j in submitted] == [f"j{i}" for i in range(6)]


def test_cancel_a_running_and_a_queued_job():
    jobs, gate, log = Jobs(max_running=1), threading.Event(), []
    first = jobs.submit("a", blocked, gate, log, "a")
    second = jobs.submit("b", blocked, gate, log, "b")
    third = jobs.submit("c", square, 3)
    assert second.position == 1 and third.position == 2
    assert jobs.cancel("b")
    assert second.state == CANCELLED and third.position == 1  # dropped from the queue at once
    while first.state != RUNNING:
        time.sleep(0.01)
    assert jobs.cancel("a")
    assert first.wait(WAIT) and first.state == CANCELLED and first.result is None
    assert third.wait(WAIT) and third.result == 9  # the worker went on to the next job
    assert ("start", "b") not in log and ("end", "a") not in log
    assert not jobs.cancel("a") and not jobs.cancel("nope")


def test_progress_never_moves_backwards():
    assert parse("DAS step 350/600") == ("DAS", 350, 600)
    assert parse("training step 3/10") == ("training", 3, 10)
    assert parse("alignment done") == ("alignment done", None, None)
    seen, reports = [], [(0.5, "DAS step 350/600"), (0.25, "DAS step 150/600"),
                         (0.5, "DAS step 100/600"), (0.6, "untrained control · DAS step 150/600"),
                         (0.55, "DAS step 500/600"), (0.9, "controls")]

    def work(job):
        for frac, message in reports:
            job.progress(frac, message)
            seen.append(job.snapshot())
        return None

    job = Jobs(1).submit("p", work)
    assert job.wait(WAIT) and job.state == DONE
    assert [s.message for s in seen] == ["DAS step 350/600"] * 3 + [
        "untrained control · DAS step 150/600"] * 2 + ["controls"]
    fracs = [s.frac for s in seen]
    assert fracs == sorted(fracs)
    assert (seen[3].phase, seen[3].step, seen[3].total) == ("untrained control · DAS", 150, 600)
    assert all(s.eta_s is not None and s.eta_s >= 0 for s in seen)


def test_the_eta_of_a_stepped_phase_follows_its_own_rate(monkeypatch):
    """A fast phase (training: half the bar in 5 s), then a slow one (DAS: 1 s a step, its
    total a cap): at DAS step 20/600 the estimate is that phase's own 580 steps x 1 s, an
    upper bound, and it falls as the steps advance. The job's overall rate would have said
    about 8 s and grown with every step (the defect this replaces)."""
    clock = [1000.0]
    monkeypatch.setattr(jobs_module.time, "time", lambda: clock[0])
    job = Job("j", lambda job: None, (), {}, 10)
    job.started = clock[0]
    for step in range(0, 801, 100):  # training: 800 steps in 4 s
        clock[0] += 0.5
        job.progress(0.5 * step / 800, f"training step {step}/800")
    etas = []
    for step in range(0, 41, 10):  # DAS: 10 s per 10 steps
        job.progress(0.5 + 0.4 * step / 600, f"DAS step {step}/600")
        etas.append(job.snapshot())
        clock[0] += 10.0
    first, at_20, last = etas[0], etas[2], etas[-1]
    assert not first.eta_capped  # one report of the phase gives no rate yet
    assert at_20.eta_capped and at_20.eta_s == pytest.approx(580.0)
    assert last.eta_s == pytest.approx(560.0) and last.eta_s < at_20.eta_s
    elapsed = clock[0] - 10.0 - job.started  # what the job's overall rate would have said:
    frac = 0.5 + 0.4 * 40 / 600
    assert elapsed * (1 - frac) / frac < 50  # far below the 560 s still to go at worst


def test_one_job_per_key_while_it_is_active():
    jobs, gate, calls = Jobs(2), threading.Event(), []

    def once(job):
        calls.append(1)
        gate.wait(WAIT)
        return len(calls)

    first = jobs.submit("same", once)
    assert jobs.submit("same", once) is first and jobs.get("same") is first
    gate.set()
    assert first.wait(WAIT) and first.result == 1 and len(calls) == 1
    again = jobs.submit("same", once)  # a finished key is run anew
    assert again is not first and again.wait(WAIT) and again.result == 2


def test_a_failure_is_reported_and_the_next_job_still_runs():
    jobs = Jobs(1)
    bad = jobs.submit("bad", lambda job: 1 / 0)
    good = jobs.submit("good", square, 4)
    assert good.wait(WAIT) and good.result == 16
    assert bad.state == FAILED and isinstance(bad.error, ZeroDivisionError)


def test_memory_is_bounded():
    jobs = Jobs(1, keep_finished=3, max_queued=2, max_frames=5)

    def frames(job):
        for i in range(20):
            job.publish(i)
            job.publish(-i, latest="map")  # one kept, outside the cap
        return None

    for i in range(6):
        jobs.submit(f"f{i}", frames).wait(WAIT)
    assert [jobs.get(f"f{i}") is None for i in range(6)] == [True] * 3 + [False] * 3
    assert jobs.get("f5").frames() == [15, 16, 17, 18, 19, -19]
    gate = threading.Event()
    jobs.submit("hold", lambda job: gate.wait(WAIT))
    while jobs.get("hold").state != RUNNING:
        time.sleep(0.01)
    jobs.submit("q1", square, 1)
    jobs.submit("q2", square, 2)
    with pytest.raises(Full):
        jobs.submit("q3", square, 3)
    gate.set()
    assert jobs.wait_idle(WAIT)


def test_publish_raises_cancelled_after_a_cancel():
    jobs, started = Jobs(1), threading.Event()

    def forever(job):
        started.set()
        while True:
            job.publish(time.time())
            time.sleep(0.005)

    job = jobs.submit("loop", forever)
    assert started.wait(WAIT)
    jobs.cancel("loop")
    assert job.wait(WAIT) and job.state == CANCELLED
    with pytest.raises(Cancelled):
        job.check()


def test_training_in_a_worker_thread_gives_the_same_numbers():
    cfg = tiny(train_steps=30, train_batch_size=64)
    direct, history = train_model(cfg, log_every=10)
    job = Jobs(2).submit("train", lambda job: train_model(cfg, job.progress, 10, job.publish))
    assert job.wait(60) and job.state == DONE, job.error
    for a, b in zip(direct.state_dict().values(), job.result[0].state_dict().values()):
        assert torch.equal(a, b)
    assert job.snapshot().phase == "training" and job.snapshot().total == 30
    assert job.frames() == history.to_dict("records")  # on_log's rows, published live


def test_the_alignment_reports_never_read_backwards():
    """align() reports DAS, then the untrained control's DAS into the same bar: each report's
    (phase, step) moves forward (the control's steps were once read as DAS going back)."""
    from explorer.methods.experiment import align
    from explorer.core.train import new_model

    cfg = tiny(k=2, das_steps=100, restarts=1, n_train_pairs=128, n_val_pairs=64,
               n_test_pairs=64, n_search_pairs=64)
    reports = []
    align(new_model(cfg).eval().requires_grad_(False), cfg,
          lambda frac, message: reports.append((frac, *parse(message))))
    assert [r[0] for r in reports] == sorted(r[0] for r in reports)
    last = {}
    for _, phase, step, _ in reports:
        assert step is None or step > last.get(phase, -1), (phase, step, reports)
        last[phase] = step if step is not None else last.get(phase, -1)
    assert any(phase.startswith("DAS") for phase in last)
    assert any(phase.startswith("control networks") for phase in last)  # beside, same bar
