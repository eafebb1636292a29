"""Precomputed results from pretrained/ for the current config: DAS with its controls and
the neuron-wise search, the spread over the shipped seeds, and the stored rotation. Data
only: numbers read from pretrained/results.csv, never recomputed here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import figures, glossary, nearest, stores as state
from explorer.analysis import readings
from explorer.analysis import geometry as analysis
from explorer.plots import charts as plots
from explorer.store import precomputed, shipped
from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import RunConfig
from explorer.methods.report import BELOW

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
    das, neuron = rows[rows.method == "das"], rows[rows.method == "neuron"]
    if len(das):
        d = das.iloc[0]
        st.markdown(readings.das_reading(d.iia, neuron.iloc[0].iia if len(neuron) else None,
                                         d.no_intervention_baseline, BELOW,
                                         d.get("random_features_das_iia")))
    figures.show(plots.controls_bars, precomputed.controls_frame(rows))
    spread_ui(cfg)
    rotation_ui(cfg)
    return True


def metrics_ui(rows: pd.DataFrame) -> None:
    das, neuron = rows[rows.method == "das"], rows[rows.method == "neuron"]
    # two rows of two: in one row of four the labels were cut at 1280 px
    (first, second), (third, fourth) = st.columns(2), st.columns(2)
    if len(das):
        d = das.iloc[0]
        first.metric("Precomputed DAS IIA", f"{d.iia:.3f}", help=glossary.IIA)
        third.metric("label-changing (precomputed)", f"{d.iia_label_changed:.3f}",
                     help=glossary.CHANGED)
        fourth.metric("baseline (precomputed)",
                      f"{d.no_intervention_baseline:.3f}", help=glossary.BASELINE)
    if len(neuron):
        second.metric("Precomputed neuron-wise IIA", f"{neuron.iloc[0].iia:.3f}",
                      help=glossary.IIA)


def spread_ui(cfg: RunConfig) -> None:
    """The same configuration at every shipped seed: one seed is one sample."""
    rows = precomputed.seed_spread(cfg)
    if rows.empty:
        return
    summary = precomputed.spread_summary(rows)
    st.markdown(f"**Across model seeds**, {SOURCE}: the same recipe and settings, "
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


def neuron_ui(cfg: RunConfig, entry: state.TrainedModel | None) -> bool:
    """The Neuron-wise page's precomputed answer for cfg (IIA, the units chosen per variable,
    IIA per site), or the nearest precomputed configurations. True when shown."""
    rows = precomputed.results_for(cfg)
    rows = rows[rows.method == "neuron"] if len(rows) else rows
    if rows.empty and applies(entry):
        nearest.nearest_ui(cfg, "Press **Run neuron-wise search** below to compute it.")
    if rows.empty or not applies(entry):
        return False
    n = rows.iloc[0]
    st.subheader(f"Results, {SOURCE}")
    cols = st.columns(3)
    cols[0].metric("Precomputed neuron-wise IIA", f"{n.iia:.3f}", help=glossary.IIA)
    cols[1].metric("label-changing (precomputed)", f"{n.iia_label_changed:.3f}",
                   help=glossary.CHANGED)
    cols[2].metric("baseline (precomputed)", f"{n.no_intervention_baseline:.3f}",
                   help=glossary.BASELINE)
    st.markdown(readings.neuron_reading(n.iia, n.no_intervention_baseline, cfg.das.k))
    subsets = precomputed.neuron_subsets(cfg) or ()
    for name, units in zip(CAUSAL_MODELS[cfg.das.hypothesis].variables, subsets):
        st.markdown(f"**{name}** ← units `{list(units)}`")
    profile = precomputed.site_profile(cfg)
    profile = profile[profile.method == "neuron"]
    if profile.site.nunique() > 1:
        frame = profile[["site", "method", "iia"]].assign(method="neuron-wise search")
        figures.show(plots.site_profile_bars, frame, "Neuron-wise IIA per site (precomputed)")
    return True
