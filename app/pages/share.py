"""Share and export page: the reproducible link and download buttons."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from app import exports, params, stores as state
from explorer.core.config import RunConfig


def share_link(cfg: RunConfig) -> str:
    """The app's URL with the query string of this config and view."""
    base = st.context.url or "http://localhost:8501/"
    base = base if base.endswith("/") else base + "/"
    return f"{base}?{urlencode(params.url_params(cfg))}"


def render(cfg: RunConfig, entry: state.TrainedModel | None) -> None:
    st.subheader("Link")
    st.markdown("Every setting is in this link. Opening it restores the configuration; with "
                "the same seed, training and searches give bit-identical numbers (press "
                "**Train** and **Run DAS** there, or get them instantly if this server still "
                "has them).")
    st.code(share_link(cfg), language=None, wrap_lines=True)
    st.subheader("Downloads")
    if entry is None:
        st.info("Train a model for this configuration to download results and checkpoints.")
        return
    run = state.find_alignment(cfg)
    report = exports.results(cfg, entry, run)
    stem = exports.stem(cfg, entry.origin)
    cols = st.columns(3)
    cols[0].download_button("Results (JSON)", exports.results_json(report), f"{stem}.json",
                            "application/json", key="download_json")
    cols[1].download_button("Results (CSV)", exports.results_csv(cfg, entry, run),
                            f"{stem}.csv", "text/csv", key="download_csv",
                            help="one row per measurement, with the config and versions")
    cols[2].download_button("Model checkpoint (safetensors)", exports.checkpoint(cfg, entry),
                            f"{stem}-model.safetensors", "application/octet-stream",
                            key="download_checkpoint")
    learned = exports.map_name(cfg)
    if run is None:
        shipped = " (the results files hold the precomputed DAS and neuron-wise rows meanwhile)" \
            if len(exports.precomputed_rows(cfg, entry, run)) else ""
        st.caption(f"Run DAS to add its results and the learned {learned}{shipped}.")
        return
    cols = st.columns(3)
    if exports.is_matrix(run):
        cols[0].download_button(f"{learned.capitalize()} (CSV)", exports.rotation_csv(run),
                                f"{stem}-{learned.replace(' ', '-')}.csv", "text/csv",
                                key="download_rotation_csv")
    else:
        cols[0].caption(f"{learned} as CSV: not applicable for a non-linear map "
                        "(its tensors are in the safetensors file)")
    cols[1].download_button(f"{learned.capitalize()} (safetensors)",
                            exports.rotation_safetensors(cfg, run),
                            f"{stem}-{learned.replace(' ', '-')}.safetensors",
                            "application/octet-stream", key="download_rotation")
    with st.expander("Results report"):
        st.json(report, expanded=False)
