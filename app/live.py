"""Live views of background runs (`app.jobs`): what the pages show while a job computes.

    training_ui(cfg)        loss and accuracy curves as training logs them
    alignment_ui(cfg, key)  DAS: phase, step, ETA, Cancel; the validation-IIA curve and the
                            leading restart's map, as the engine logs them
    neuron_ui(cfg)          the neuron-wise search's place in the queue / elapsed time
    probes_ui(cfg)          likewise, the geometry page's linear probes
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from app import figures, jobs
from explorer.analysis import geometry as analysis
from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import RunConfig
from explorer.plots import charts as plots


def training_frames_ui(frames: list[dict]) -> None:
    """History rows (step, loss, train_accuracy) published by train_model's on_log."""
    history = pd.DataFrame(frames)
    left, right = st.columns(2)
    left.altair_chart(plots.loss_curve(history), width="stretch")
    right.altair_chart(plots.accuracy_curve(history), width="stretch")


def das_frames_ui(variables: tuple[str, ...]):
    """The DAS live view for frames published by `das.publisher`: the validation-IIA curve of
    every restart as it grows and, beside it, the leading restart's kept map as a heatmap
    (a RevNet map publishes no matrix: the curve alone)."""
    def draw(frames: list[dict]) -> None:
        rows = [f for f in frames if isinstance(f, dict) and "val_iia" in f]
        maps = [f for f in frames if isinstance(f, dict) and "map" in f]
        if not rows:
            return
        left, right = st.columns(2)
        left.altair_chart(plots.iia_curve(pd.DataFrame(rows)), width="stretch")
        if maps:
            last = maps[-1]
            frame = analysis.matrix_frame(torch.from_numpy(last["map"]),
                                          torch.from_numpy(last["mask"]), variables)
            figures.show(plots.rotation_heatmap, frame,  # cached: same map, same chart
                         f"kept map of restart {last['restart']} (from step {last['step']})",
                         stretch=False, container=right)
    return draw


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
    """The live panel (or the failure / cancel notice) of cfg's DAS run: its curve and the
    leading map grow while it runs."""
    variables = CAUSAL_MODELS[cfg.das.hypothesis].variables
    jobs.live_ui(jobs.align_key(cfg), jobs.WHAT["align"], cancel_key=f"{button_key}_cancel",
                 frames_ui=das_frames_ui(tuple(variables)), every=jobs.CHARTS_S)


def neuron_ui(cfg: RunConfig) -> None:
    jobs.live_ui(jobs.neuron_key(cfg), jobs.WHAT["neuron"])


def probes_ui(cfg: RunConfig) -> None:
    jobs.live_ui(jobs.probes_key(cfg), jobs.WHAT["probes"])
