"""Off the shipped grid: what pretrained/results.csv has nearest, with a button that moves the
widgets there (where the answer is instant), beside the button that runs this config."""

from __future__ import annotations

import streamlit as st

from app import session
from explorer.core.config import RunConfig
from explorer.core.vocabulary import METHOD_LABELS
from explorer.store import precomputed


@st.cache_data(max_entries=64, show_spinner=False)
def nearest(cfg: RunConfig) -> list[precomputed.Nearby]:
    """The nearest precomputed configurations (cached by the config's value)."""
    return precomputed.nearest(cfg)


def show_config(flat: dict, page: str | None = None) -> None:
    """Point every config widget (and, if given, the page) at a configuration. For on_click:
    widget values may be changed before the widgets are drawn."""
    for name, value in flat.items():
        st.session_state[name] = value
    if page is not None:
        st.session_state[session.PAGE] = page


def _describe(near: precomputed.Nearby) -> str:
    changes = ", ".join(f"{name} {ours} → **{theirs}**"
                        for name, (theirs, ours) in near.differences.items())
    scores = " · ".join(f"{METHOD_LABELS.get(r.method, r.method)} IIA {r.iia:.3f}"
                        for r in near.rows.itertuples())
    return f"{changes}: {scores}"


def nearest_ui(cfg: RunConfig, run_hint: str) -> None:
    """Say that cfg is not precomputed, what is nearest (with buttons there), and `run_hint`
    (how to compute this one)."""
    found = nearest(cfg)
    if not found:
        return
    box = st.container(border=True)
    box.markdown(f"**Not precomputed for this configuration.** {run_hint} Nearest in "
                 "pretrained/results.csv (shipped models, instant):")
    for i, near in enumerate(found):
        left, right = box.columns([5, 1], vertical_alignment="center")
        left.markdown(_describe(near))
        right.button("Go there", key=f"nearest_{i}", on_click=show_config, args=(near.flat,))

