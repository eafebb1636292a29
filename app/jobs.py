"""Runs that live outside the page: training, DAS runs and neuron-wise searches are
background jobs (`explorer.runs.jobs`), one manager per server process, keyed by what they
compute (the recipe's model, or the full run config). Navigating, changing widgets or
opening the same link in another tab never loses one: the page finds it again by its key.

At most `os.cpu_count()` jobs compute at once; the rest wait in order, their position shown.
The work is built in the script run (`app.stores.trainer`, `aligner`, `neuron_searcher`: the
stores and this session's hold are looked up there) and stores its result when it finishes,
so a finished job is just a model or run in the stores.

While a job is queued or running, `live_ui` draws its panel in a fragment that redraws itself
every REFRESH_S seconds (phase, step, elapsed, ETA, Cancel and live frames); when the job
ends the fragment reruns the whole page once, which then shows the result and no longer draws
the fragment, so nothing refreshes while nothing runs.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from typing import Callable

import streamlit as st

from app import stores as state
from app.session import JOBS_MINE
from app.nearest import show_config
from explorer.core.config import RunConfig
from explorer.runs.jobs import CANCELLED, FAILED, QUEUED, Full, Job, Jobs

REFRESH_S = 0.5  # how often a live panel redraws (one with charts: CHARTS_S)
CHARTS_S = 1.0
WARM_DELAY_S = 3.0
KEEP_MINE = 6  # jobs each session lists under "Your other runs"
PAGES = {"train": "train", "align": "das", "neuron": "neuron", "probes": "geometry",
         "complexity": "das", "court": "das", "plant": "das", "seeds": "das"}
WHAT = {"train": "Training", "align": "DAS and controls", "neuron": "Neuron-wise search",
        "probes": "Fitting linear probes", "complexity": "Complexity sweep",
        "court": "Hypothesis court", "plant": "Planting and recovery", "seeds": "Seeds 0–4"}


@st.cache_resource
def manager() -> Jobs:
    """The process's one job manager (its first use also warms the jobs' lazy imports)."""
    threading.Thread(target=_warm_imports, name="warm-imports", daemon=True).start()
    return Jobs(max_running=os.cpu_count())


def _warm_imports() -> None:
    """The lazy imports of the first jobs a visitor starts (scikit-learn for the geometry
    page's probes, ~1 s; SciPy's assignment solver for the permutation control, ~0.5 s):
    made in the background once the first page has had WARM_DELAY_S to draw, not inside the
    first visit to Hidden geometry or the first run."""
    time.sleep(WARM_DELAY_S)
    import scipy.optimize  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401


def train_key(cfg: RunConfig) -> str:
    return "train " + state.recipe_key(cfg)


def align_key(cfg: RunConfig) -> str:
    return "align " + state.run_key(cfg)


def neuron_key(cfg: RunConfig) -> str:
    return "neuron " + state.run_key(cfg)


def probes_key(cfg: RunConfig) -> str:
    return "probes " + state.model_key(cfg)


def get(key: str) -> Job | None:
    return manager().get(key)


def active(key: str) -> bool:
    job = get(key)
    return job is not None and not job.finished


def _start(key: str, cfg: RunConfig, work: Callable, remember: bool = True) -> Job | None:
    """Submit work(job) under key, remembered as this session's (unless `remember` is False);
    None (with an error shown) when the queue is full."""
    try:
        job = manager().submit(key, work)
    except Full as err:
        st.error(f"The server is busy: {err}.")
        return None
    if not remember:
        return job
    mine = st.session_state.setdefault(JOBS_MINE, OrderedDict())
    kind = key.split(" ", 1)[0]
    mine[key] = (WHAT[kind], PAGES[kind], cfg.to_flat())
    mine.move_to_end(key)
    while len(mine) > KEEP_MINE:
        mine.popitem(last=False)
    return job


def start_training(cfg: RunConfig) -> Job | None:
    work = state.trainer(cfg)
    return _start(train_key(cfg), cfg, lambda job: _summary(work(job.progress, job.publish)))


def start_alignment(entry: state.TrainedModel, cfg: RunConfig) -> Job | None:
    work = state.aligner(entry, cfg)
    return _start(align_key(cfg), cfg, lambda job: _summary(work(job.progress, job.publish)))


def start_neuron(entry: state.TrainedModel, cfg: RunConfig) -> Job | None:
    work = state.neuron_searcher(entry, cfg)
    return _start(neuron_key(cfg), cfg, lambda job: _summary(work(job.progress)))


def start_probes(entry: state.TrainedModel, cfg: RunConfig) -> Job | None:
    """Probes start on their own (no button): they are a view of the model, not a run."""
    work = state.prober(entry, cfg)
    return _start(probes_key(cfg), cfg, lambda job: _summary(work(job.progress)),
                  remember=False)


def start_work(key: str, cfg: RunConfig, work: Callable) -> Job | None:
    """Start work(progress) under key ('<kind> ...', kind in PAGES), remembered as this
    session's; the work stores its own result (app.dial)."""
    return _start(key, cfg, lambda job: _summary(work(job.progress)))


def _summary(result) -> str:
    """What a finished job keeps: a line, not the result (the stores hold that)."""
    return type(result).__name__


def cancel(key: str) -> None:
    manager().cancel(key)


# --- drawing ------------------------------------------------------------------------------

def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


def status_text(job: Job, what: str) -> str:
    """'Training · step 300/2500 · 12 s so far · at most 1.5 min left in this phase' (or
    'about ... left' where no step count gives the phase's rate), or the queue position."""
    if job.state == QUEUED:
        jobs = manager()
        running = len(jobs.active()) - sum(j.state == QUEUED for j in jobs.active())
        return (f"{what}: queued, position {job.position} ({running} running; this server "
                f"computes at most {jobs.max_running} at once)")
    snap = job.snapshot()
    parts = [what, _where(snap, what)] if _where(snap, what) else [what]
    parts.append(f"{_seconds(job.elapsed())} so far")
    if snap.eta_s is not None and (snap.eta_capped or snap.frac > 0.02):
        parts.append(f"at most {_seconds(snap.eta_s)} left in this phase" if snap.eta_capped
                     else f"about {_seconds(snap.eta_s)} left")
    if job.cancel_requested:
        parts.append("cancelling…")
    return " · ".join(parts)


def _where(snap, what: str) -> str:
    """'step 300/2500', 'untrained control · DAS step 50/600', or the phase alone."""
    step = f"step {snap.step}/{snap.total}" if snap.step is not None else ""
    phase = "" if snap.phase.lower() == what.lower() else snap.phase
    return f"{phase} {step}".strip()


def notice_ui(job: Job | None, what: str) -> None:
    """A failed or cancelled job says so (until the next start)."""
    if job is None:
        return
    if job.state == FAILED:
        st.error(f"{what} failed: {type(job.error).__name__}: {job.error}")
    elif job.state == CANCELLED:
        where = _where(job.snapshot(), what)
        st.info(f"{what} was cancelled{' at ' + where if where else ''}. Press the button "
                "to start it again.")


def live_ui(key: str, what: str, cancel_key: str | None = None,
            frames_ui: Callable[[list], None] | None = None, every: float = REFRESH_S,
            bar: bool = True) -> Job | None:
    """The job under key: while it is queued or running, its live panel (progress bar unless
    `bar` is False, Cancel when `cancel_key` is given, `frames_ui(frames)`), redrawn every
    `every` seconds; once finished, a notice if it failed or was cancelled. Returns the job."""
    job = get(key)
    if job is None:
        return None
    if job.finished:
        notice_ui(job, what)
    else:
        st.fragment(_live, run_every=every)(key, what, cancel_key, frames_ui, bar)
    return job


def _live(key: str, what: str, cancel_key: str | None, frames_ui, bar: bool) -> None:
    """The body of a live panel (a fragment: it alone reruns, every few tenths of a second)."""
    job = get(key)
    if job is None or job.finished:
        st.rerun()  # the whole page, once: it shows the result and stops this fragment
    if bar:
        st.progress(job.snapshot().frac, text=status_text(job, what))
    else:
        st.caption(status_text(job, what))
    if cancel_key is not None:
        st.button("Cancel", key=cancel_key, on_click=cancel, args=(key,),
                  disabled=job.cancel_requested, help="stop this run (nothing is stored)")
    if frames_ui is not None and job.frames():
        frames_ui(job.frames())


def elsewhere_ui(container, current: set[str]) -> None:
    """This session's other runs (other configurations), each with a button back to it."""
    mine = st.session_state.get(JOBS_MINE, {})
    rows = [(key, info) for key, info in reversed(mine.items()) if key not in current]
    shown = [(key, info, get(key)) for key, info in rows if get(key) is not None]
    if not shown:
        return
    box = container.expander(f"Your other runs ({len(shown)})", expanded=any(
        not job.finished for _, _, job in shown))
    for i, (key, (what, page, flat), job) in enumerate(shown):
        text = status_text(job, what) if not job.finished else f"{what}: {job.state}"
        box.caption(f"{text} · width {flat['width']} · seed {flat['seed']} · site "
                    f"{flat['site']} · k {flat['k']}")
        box.button("Show it", key=f"job_show_{i}", on_click=show_config, args=(flat, page))
