"""Precomputed results from pretrained/ for the current config: DAS with its controls and
the neuron-wise search, the spread over the shipped seeds, and the stored rotation. Data
only: numbers read from pretrained/results.csv, never recomputed here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import figures, glossary, nearest, stores as state
from explorer.analysis import geometry as analysis
from explorer.plots import charts as plots
from explorer.store import precomputed, shipped
from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import RunConfig

SOURCE = "precomputed (pretrained/results.csv)"


def applies(entry: state.TrainedModel | None) -> bool:
    """Shipped results describe the recipe's model, not an uploaded one."""
    return entry is not None and not entry.origin


def precomputed_ui(cfg: RunConfig, entry: state.TrainedModel | None) -> bool:
    """Show the precomputed results for cfg, if pretrained/ has them. True when shown."""
    rows = precomputed.results_for(cfg)
    if rows.empty and applies(entry):
        nearest.nearest_ui(cfg, "Press **Run DAS** below to compute it.")
    if rows.empty or not applies(entry):
        if not rows.empty:
            st.caption("pretrained/results.csv has results for this configuration, but they "
                       "describe the shipped model, not the uploaded one: run DAS below.")
        return False
    st.subheader(f"Results, {SOURCE}")
    st.caption("Read from the shipped table, computed by `python -m explorer pretrain` on "
               "this exact configuration: the same numbers **Run DAS** below computes live.")
    metrics_ui(rows)
    figures.show(plots.controls_bars, precomputed.controls_frame(rows))
    spread_ui(cfg)
    rotation_ui(cfg)
    return True


def metrics_ui(rows: pd.DataFrame) -> None:
    das, neuron = rows[rows.method == "das"], rows[rows.method == "neuron"]
    cols = st.columns(4)
    if len(das):
        d = das.iloc[0]
        cols[0].metric("Precomputed DAS IIA", f"{d.iia:.3f}", help=glossary.IIA)
        cols[1].metric("label-changing (precomputed)", f"{d.iia_label_changed:.3f}",
                       help=glossary.CHANGED)
        cols[2].metric("baseline (precomputed)",
                       f"{d.no_intervention_baseline:.3f}", help=glossary.BASELINE)
    if len(neuron):
        cols[3].metric("Precomputed neuron-wise IIA", f"{neuron.iloc[0].iia:.3f}",
                       help=glossary.IIA)


def spread_ui(cfg: RunConfig) -> None:
    """The same configuration at every shipped seed: one seed is one sample."""
    rows = precomputed.seed_spread(cfg)
    if rows.empty:
        return
    summary = precomputed.spread_summary(rows)
    st.markdown(f"**Across model seeds** ({SOURCE}): the same recipe and settings, "
                f"{rows.seed.nunique()} seeds.")
    per_seed = rows.pivot_table(index="seed", columns="method", values="iia").reset_index()
    left, right = st.columns(2)
    left.dataframe(summary, hide_index=True, key="precomputed_spread")
    right.dataframe(per_seed, hide_index=True, key="precomputed_per_seed")
    das = summary[summary.method == "das"]
    if len(das) and das["seeds"].iloc[0] > 1:
        low, high = das["min"].iloc[0], das["max"].iloc[0]
        published = (" (published reruns of the layer-1 recipe: 0.72 to 0.98)"
                     if cfg.das.site == 1 else "")
        st.caption(f"One model seed is one sample: here DAS IIA ranges from {low:.2f} to "
                   f"{high:.2f} over {das['seeds'].iloc[0]} seeds{published}. Read one "
                   "seed's number against this spread.")


def rotation_ui(cfg: RunConfig) -> None:
    stored = shipped.rotation_for(cfg)
    if stored is None:
        st.caption("No stored rotation for this setting (pretrained/rotations.safetensors "
                   "keeps the rotation of every DAS point of the shipped table): press "
                   "**Run DAS** to learn and show one.")
        return
    rotation, var_mask = stored
    frame = analysis.matrix_frame(rotation, var_mask, CAUSAL_MODELS[cfg.das.hypothesis].variables)
    figures.show(plots.rotation_heatmap, frame, f"stored R, {SOURCE}", stretch=False)
