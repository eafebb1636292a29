"""Neuron-wise search page: the best unit subsets per variable and single units per site."""

from __future__ import annotations

import streamlit as st

from app import (common, compare, figures, glossary, jobs, live, precomputed,
                 stores as state)
from explorer.analysis import readings
from explorer.plots import charts as plots
from explorer.core.config import RunConfig


def render(cfg: RunConfig, entry: state.TrainedModel | None) -> None:
    d = cfg.site_dim(cfg.das.site)
    st.markdown(f"Which **{cfg.das.k}** individual units of site **{cfg.das.site}** "
                f"({d} units) carry each variable? Interchange interventions swap those "
                "units from a source input into the base; the score is IIA on held-out pairs. "
                "Site and k are in the sidebar.")
    compare.compare_ui(cfg, entry, "neuron")
    if not common.require_model(cfg, entry):
        return
    common.accuracy_banner(entry)
    if precomputed.neuron_ui(cfg, entry):  # on the shipped grid: the answer with no button
        st.subheader("Live run")
    result = state.find_neuron(cfg)
    running = result is None and jobs.active(jobs.neuron_key(cfg))
    if st.button("Run neuron-wise search", key="neuron_button", type="primary",
                 disabled=result is not None or running):
        if jobs.start_neuron(entry, cfg) is not None:
            st.rerun()
    if result is None:
        live.neuron_ui(cfg)
        return
    show_result(result, cfg.das.k)
    st.subheader("Single units at every site")
    st.caption("IIA of swapping one unit alone, per variable (pairs that intervene on that "
               "variable only).")
    scores = common.attempt("Single-unit scores", state.unit_scores, entry, cfg)
    if scores is not None:
        figures.show(plots.neuron_heatmap, scores)


def show_result(result, k: int) -> None:
    test = result.test
    cols = st.columns(4)
    cols[0].metric("IIA (test pairs)", f"{test.iia:.3f}", help=glossary.IIA)
    cols[1].metric("on label-changing pairs", f"{test.changed:.3f}", help=glossary.CHANGED)
    cols[2].metric("no-intervention baseline", f"{test.baseline:.3f}", help=glossary.BASELINE)
    cols[3].metric("search", "exhaustive" if result.exhaustive else "greedy")
    st.markdown(readings.neuron_reading(test.iia, test.baseline, k))
    for name, units in zip(test.by_type, result.subsets):
        st.markdown(f"**{name}** ← units `{list(units)}`")
    st.dataframe(result.ranking.astype({"neurons": str}), hide_index=True,
                 key="neuron_ranking")
