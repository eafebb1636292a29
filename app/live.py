"""Live views of background runs (`app.jobs`): what the pages show while a job computes.

    training_ui(cfg)        loss and accuracy curves as training logs them
    alignment_ui(cfg, key)  DAS: phase, step, ETA, Cancel; the validation-IIA curve once the
                            engine publishes its history rows (see das_frames_ui)
    neuron_ui(cfg)          the neuron-wise search's place in the queue / elapsed time
    probes_ui(cfg)          likewise, the geometry page's linear probes
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import jobs
from explorer.core.config import RunConfig
from explorer.plots import charts as plots


def training_frames_ui(frames: list[dict]) -> None:
    """History rows (step, loss, train_accuracy) published by train_model's on_log."""
    history = pd.DataFrame(frames)
    left, right = st.columns(2)
    left.altair_chart(plots.loss_curve(history), width="stretch")
    right.altair_chart(plots.accuracy_curve(history), width="stretch")


def das_frames_ui(frames: list[dict]) -> None:
    """HOOK for the DAS live curve: rows shaped like DASResult.history (step, restart, loss,
    val_iia). The DAS engine publishes none yet (methods/das.py is being rewritten); once it
    takes an `on_log`, pass `job.publish` to it in `app.stores.aligner` and this draws the
    curve as it grows. Until then the panel shows phase, step and ETA, and the DAS page the
    finished validation-IIA curve."""
    rows = [f for f in frames if isinstance(f, dict) and {"step", "restart", "val_iia"} <= set(f)]
    if rows:
        st.altair_chart(plots.iia_curve(pd.DataFrame(rows)), width="stretch")


def training_ui(cfg: RunConfig) -> bool:
    """The live training panel while cfg's model trains. True when one is running."""
    key = jobs.train_key(cfg)
    if not jobs.active(key):
        return False
    st.info("Training in the background: switch pages or change settings freely, it keeps "
            "running (Cancel is in the sidebar). The curves below grow as it logs.")
    jobs.live_ui(key, "Training", frames_ui=training_frames_ui, every=jobs.CHARTS_S,
                 bar=False)
    return True


def alignment_ui(cfg: RunConfig, button_key: str) -> None:
    """The live panel (or the failure / cancel notice) of cfg's DAS run."""
    jobs.live_ui(jobs.align_key(cfg), jobs.WHAT["align"], cancel_key=f"{button_key}_cancel",
                 frames_ui=das_frames_ui)


def neuron_ui(cfg: RunConfig) -> None:
    jobs.live_ui(jobs.neuron_key(cfg), jobs.WHAT["neuron"])


def probes_ui(cfg: RunConfig) -> None:
    jobs.live_ui(jobs.probes_key(cfg), jobs.WHAT["probes"])
