"""The alignment explorer: train a small MLP on hierarchical equality, look inside it, and
test with interchange interventions where it holds the intermediate variables.

Run: `streamlit run streamlit_app.py`. UI only: widgets -> config -> cached explorer calls ->
charts. The pieces live in `app/`; the math in `explorer/`.
"""

from __future__ import annotations

import streamlit as st

from app import glance, params, session, widgets

# Drawn before the imports below (torch, the engine, the pages), which take seconds on a cold
# start: the title, and on the Train page of a shipped configuration a precomputed chart.
NAV, NOTICES = glance.header_ui()

from app import planted, sidebar  # noqa: E402
from app.pages import das as pages_das  # noqa: E402
from app.pages import geometry as pages_geometry  # noqa: E402
from app.pages import neuron as pages_neuron  # noqa: E402
from app.pages import share as pages_share  # noqa: E402
from app.pages import swaps as pages_swaps  # noqa: E402
from app.pages import train as pages_train  # noqa: E402
from app import compare, findings, glossary, tour  # noqa: E402
from explorer.core.rng import fix_threads  # noqa: E402

PAGES = {
    "train": ("Train", pages_train.render),
    "geometry": ("Hidden geometry", pages_geometry.render),
    "neuron": ("Neuron-wise search", pages_neuron.render),
    "das": ("DAS", pages_das.render),
    "swaps": ("Swap interventions", pages_swaps.render),
    "share": ("Share & export", pages_share.render),
    "findings": ("Findings", findings.render),
}


def page_ui() -> str:
    return widgets.view_ui(st.radio, session.PAGE, "Page", list(PAGES), horizontal=True,
                          format_func=lambda p: PAGES[p][0], label_visibility="collapsed")


def problems_ui(error) -> None:
    """Problems with the link (kept until dismissed), this run's notes, and a bad field."""
    ss = st.session_state
    if ss[session.PROBLEMS]:
        st.error("Some link parameters were invalid and were replaced:\n\n- "
                 + "\n- ".join(ss[session.PROBLEMS]))
        if st.button("Dismiss", key="dismiss_problems"):
            ss[session.PROBLEMS] = []
            st.rerun()
    for note in ss[session.NOTES]:
        st.info(f"Adjusted {note}")
    if error is not None:
        st.error(f"**{error.field}**: {error.message}. Showing the last valid configuration; "
                 "fix the field to continue.")


def main() -> None:
    fix_threads()
    cfg, error, train_slot = sidebar.config_ui()
    entry = sidebar.train_ui(cfg, error, train_slot)
    compare.pin_ui(cfg, error)
    tour.reopen_ui()
    if error is None:
        planted.planted_ui(cfg, st.sidebar)  # the Planted source: a known answer to recover
    with NAV:
        page = page_ui()
    with NOTICES:
        problems_ui(error)
        tour.tour_ui()
    glossary.how_to_read_ui(page)
    PAGES[page][1](cfg, entry)
    if error is None:
        params.sync_url(cfg)


main()
