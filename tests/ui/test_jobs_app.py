"""Issue 11, the app's background jobs through AppTest: a run started in one session is found
by another session of the same link (one job, not two) and survives page switches; Cancel
stops it and says so; and, in a fresh process, ten sessions that all train and then run DAS
at once all finish, under 1.5 GB of peak memory (tests/sessions_load.py)."""

import json
import os
import subprocess
import sys


from app import jobs, session
from tests.app_driver import ROOT, finish_jobs, goto, metric, open_app

TINY = dict(train_steps="40", train_batch_size="128", eval_size="128", das_steps="10",
            restarts="1", k="2", n_train_pairs="128", n_val_pairs="64", n_test_pairs="128",
            n_search_pairs="64")


def progress_texts(at) -> list[str]:
    return [e.proto.text for e in at.get("progress")]


def test_a_second_session_of_the_link_shares_the_run_and_it_survives_page_switches():
    link = {**TINY, "train_steps": "400", "seed": "1201"}
    first, second = open_app(link), open_app(link)
    first.button(key="train_button").click().run()
    job = jobs.get(next(iter(first.session_state[session.JOBS_MINE])))
    assert job is not None and not job.finished  # the script run did not wait for it
    assert first.button(key="train_button").disabled
    assert any("Training" in t for t in progress_texts(first))
    second.run()  # the same link elsewhere: the same job, shown running
    assert second.button(key="train_button").disabled
    assert jobs.manager().counts()["running"] + jobs.manager().counts()["queued"] == 1
    goto(first, "geometry")
    goto(first, "das")
    assert any("Training in the background" in i.value for i in first.info)
    finish_jobs()
    for at in (first.run(), second.run()):
        assert any("Model ready (trained in this app)" in s.value for s in at.success)
        assert metric(at, "Held-out task accuracy") is not None
    assert job.finished and job.state == "done"


def test_cancel_stops_the_run_and_the_page_says_so():
    at = open_app({**TINY, "train_steps": "50000", "seed": "1202"})
    at.button(key="train_button").click().run()
    at.button(key="train_cancel").click().run()
    finish_jobs(60)
    at.run()
    assert any("Training was cancelled" in i.value for i in at.info)
    assert not at.button(key="train_button").disabled  # it can be started again
    assert not any("Model ready" in s.value for s in at.success)


def test_ten_sessions_train_and_run_das_at_once_in_bounded_memory():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "tests.sessions_load"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["finished"] == report["sessions"] == 10, report
    waiting = 10 - min(10, os.cpu_count() or 1)
    seen = report["queue_positions"]  # shown on the pages; a job may finish before the last
    assert waiting == 0 or (1 in seen and max(seen) <= waiting), report  # press comes
    assert report["vm_hwm_mb"] < 1536, report


def test_the_status_line_says_at_most_for_a_phase_that_counts_to_a_cap(monkeypatch):
    """A stepped phase's estimate is its time to the step cap (DAS may stop sooner): the
    status line says 'at most ... left in this phase'; without a step count, 'about'."""
    from explorer.runs.jobs import RUNNING, Job, Snapshot
    job = Job("j", lambda job: None, (), {}, 10)
    job.state, job.started = RUNNING, 0.0
    monkeypatch.setattr(job, "elapsed", lambda: 12.0)
    capped = Snapshot("DAS", 0.5, 20, 600, 95.0, "DAS step 20/600", eta_capped=True)
    monkeypatch.setattr(job, "snapshot", lambda: capped)
    assert jobs.status_text(job, "DAS and controls") == (
        "DAS and controls · DAS step 20/600 · 12 s so far · at most 1.6 min left in this phase")
    plain = Snapshot("controls", 0.96, None, None, 3.0, "controls")
    monkeypatch.setattr(job, "snapshot", lambda: plain)
    assert jobs.status_text(job, "DAS and controls").endswith("· about 3 s left")
