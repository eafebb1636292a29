"""Hidden geometry page: PCA per site and linear probes. Descriptive, not causal.

PCA is fast and drawn at once; the probes (dozens of logistic regressions) are fitted in a
background job that starts when the page first needs them, and fill their column when done.
The colouring radio and the PCA chart are a fragment: changing the colour redraws only them.
"""

from __future__ import annotations

import streamlit as st

from app import common, figures, jobs, live, params, session, stores as state, widgets
from explorer.analysis import readings
from explorer.plots import charts as plots
from explorer.core.config import RunConfig
from explorer.runs.jobs import DONE

COLOURS = ("V1", "V2", "label", "pattern")
CAVEAT = ("**Descriptive, not causal.** PCA and probes show what can be *read* from a "
          "site (decodability). A variable can be decodable and unused by the network; "
          "only interventions (neuron-wise search, DAS) test its causal role.")


def render(cfg: RunConfig, entry: state.TrainedModel | None) -> None:
    st.info(CAVEAT)
    if not common.require_model(cfg, entry):
        return
    tables = common.attempt("PCA", state.geometry_tables, entry)
    if tables is None:
        return
    points, variance = tables
    probes = state.find_probes(cfg)
    job = jobs.get(jobs.probes_key(cfg))
    if probes is None and (job is None or job.state == DONE):  # done: stored, since evicted
        jobs.start_probes(entry, cfg)
    pca_ui(cfg, points)
    left, right = st.columns([1, 2])
    with left:
        figures.show(plots.explained_variance_lines, variance)
    with right:
        st.subheader("Linear probes")
        st.caption("Logistic regression on 70% of 2,000 held-out examples, scored on the "
                   "rest; the control is trained on shuffled labels (mean of 5).")
        if probes is not None:
            figures.show(plots.probe_bars, probes, stretch=False)
            reading = readings.probe_reading(probes)
            if reading:
                st.markdown(reading)
        else:
            live.probes_ui(cfg)


@st.fragment
def pca_ui(cfg: RunConfig, points) -> None:
    colour = widgets.view_ui(st.radio, session.GEO_COLOR, "Colour points by", COLOURS,
                            horizontal=True)
    st.subheader("PCA of hidden states at each site")
    st.caption("Site 0 is the input; sites 1… are the hidden layers' outputs. "
               "600 held-out examples.")
    figures.show(plots.pca_scatter, points, colour, stretch=False)
    params.sync_url(cfg)  # a fragment rerun does not reach main()'s sync
