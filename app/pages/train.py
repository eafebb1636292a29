"""Train page: what the task is, then the trained model's curves and held-out accuracy."""

from __future__ import annotations

import streamlit as st

from app import common, compare, figures, stores as state
from explorer.plots import charts as plots
from explorer.core.config import RunConfig
from explorer.core.train import recipe_for

TASK = """**Hierarchical equality.** Four entity vectors a, b, c, d; V1 = (a == b),
V2 = (c == d), label y = (V1 == V2). An MLP learns y from the concatenation; the other
pages ask where, and in what form, it holds V1 and V2. Test entities are never seen in
training."""


def render(cfg: RunConfig, entry: state.TrainedModel | None) -> None:
    st.markdown(TASK)
    compare.compare_ui(cfg, entry, "train")
    recipe = recipe_for(cfg)
    st.caption(f"{cfg.model.layers} × {cfg.model.width} {cfg.model.activation} MLP on "
               f"{cfg.input_dim}-dim inputs · {recipe.steps} steps at lr {recipe.lr:g} · "
               f"seed {cfg.seed}")
    if not common.require_model(cfg, entry):
        return
    common.accuracy_banner(entry)
    if entry.history is not None and len(entry.history):
        left, right = st.columns(2)
        with left:
            figures.show(plots.loss_curve, entry.history)
        with right:
            figures.show(plots.accuracy_curve, entry.history)
    elif entry.source == state.SHIPPED:
        st.caption("A shipped checkpoint (pretrained/, trained by `python -m explorer "
                   "pretrain` with this recipe): its training curves are not stored. Press "
                   "**Train your own** in the sidebar to watch them; precomputed DAS results "
                   "are on the DAS page.")
    figures.show(plots.pattern_accuracy_bars, entry.accuracy)
    st.dataframe(entry.accuracy, hide_index=True, key="train_accuracy_table")
