"""The header, and at the top of the Train page, when pretrained/ has this configuration, a
precomputed overview: DAS and neuron-wise IIA at every site of the shipped model.

Imports here are light on purpose (no torch, no engine): `streamlit_app.py` draws this
before importing the rest, so a cold start shows the title and a chart while torch loads.
"""

from __future__ import annotations

import streamlit as st

from app import figures, params, session, widgets
from explorer.analysis import readings
from explorer.plots import charts as plots
from explorer.store import precomputed
from explorer.core.config import ConfigError, RunConfig, validate
from explorer.core.identity import model_fields
from explorer.core.vocabulary import METHOD_LABELS


def header_ui():
    """Page config, link seeding, title; then the slots the page radio and the notices fill
    later (so they sit above the overview), and the overview. Returns (nav, notices)."""
    st.set_page_config(page_title="Alignment explorer", page_icon=":material/explore:",
                       layout="wide")
    params.seed_from_url()
    st.title("Alignment explorer")
    st.caption("Where, and in what form, does a small network hold the intermediate "
               "variables of the algorithm it solves?")
    nav, notices = st.container(), st.container()
    if _current_page() == "train":
        overview_ui(_session_config())
    return nav, notices


def _current_page() -> str:
    ss = st.session_state
    return ss[session.PAGE] if session.PAGE in ss else session.view().get(session.PAGE, "train")


def _session_config() -> RunConfig | None:
    """The config the widgets will describe (their values before drawing), if valid."""
    try:
        return validate(RunConfig.from_flat({name: st.session_state[name]
                                             for name in params.DEFAULTS}))
    except (ConfigError, KeyError, TypeError):
        return None


def overview_ui(cfg: RunConfig | None) -> None:
    """IIA at every site for the shipped model of this config (nothing when none)."""
    profile = precomputed.site_profile(cfg) if cfg is not None and not _uploaded(cfg) else None
    if profile is None or profile.empty:
        return
    frame = profile[["site", "method", "iia"]].assign(method=profile.method.map(METHOD_LABELS))
    hypothesis = widgets.LABELS.get(cfg.das.hypothesis, cfg.das.hypothesis)
    st.markdown(f"**Where does this model hold the variables?** DAS and the best "
                f"neuron-wise subsets at every site · k = {cfg.das.k} · {hypothesis} · "
                "shipped model, precomputed (pretrained/results.csv)")
    figures.show(plots.site_profile_bars, frame, "IIA per site (precomputed)")
    reading = readings.site_reading(frame, METHOD_LABELS["das"])
    if reading:
        st.markdown(reading)


def _uploaded(cfg: RunConfig) -> bool:
    """Does this session use an uploaded (or planted) model for cfg? Then the shipped
    model's precomputed results do not describe the model in use."""
    return any(model_fields(e.config) == model_fields(cfg) for e in session.uploads().values())
