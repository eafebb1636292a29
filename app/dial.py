"""The complexity dial in the app: the complexity sweep and the hypothesis court for the
current model (DAS page) and the per-pair success map of the current DAS result. Sweeps,
courts (and the plants of `app.planted`, the seeds of `app.spread`) are background jobs
(`app.jobs.start_work`, started by `button_job`) whose results live in this module's small
stores, keyed by configuration; every number comes from `explorer` (analysis.complexity,
analysis.court), the charts from `explorer.plots.charts`."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import streamlit as st

from app import common, jobs, params, session, stores as state, widgets
from app.session import COURT_MAP
from explorer.analysis.complexity import DialSettings, complexity_sweep, map_order
from explorer.analysis.court import COURT_MAPS, hypothesis_court, pair_success
from explorer.core.config import RunConfig
from explorer.core.pairs import das_test_pairs
from explorer.methods.steps import random_features_model
from explorer.plots import charts as plots

@st.cache_resource
def results() -> dict[str, state.LRUStore]:
    return {"complexity": state.LRUStore(8), "court": state.LRUStore(8),
            "plant": state.LRUStore(4), "seeds": state.LRUStore(4)}


def digest(payload) -> str:
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def complexity_key(cfg: RunConfig) -> str:
    return "complexity " + state.run_key(cfg)


def court_key(cfg: RunConfig, map_name: str) -> str:
    return f"court {state.run_key(cfg)} {digest(map_name)}"


def _networks(entry: state.TrainedModel, cfg: RunConfig) -> dict:
    return {"trained": entry.model, "control": random_features_model(cfg)}


def sweeper(entry: state.TrainedModel, cfg: RunConfig):
    store, key = results()["complexity"], complexity_key(cfg)

    def work(progress=None):
        sweep = complexity_sweep(_networks(entry, cfg), cfg, DialSettings(), progress=progress)
        store.put(key, sweep)
        return sweep
    return work


def courter(entry: state.TrainedModel, cfg: RunConfig, map_name: str):
    store, key = results()["court"], court_key(cfg, map_name)

    def work(progress=None):
        court = hypothesis_court(_networks(entry, cfg), cfg, map_name, DialSettings(),
                                 progress=progress)
        store.put(key, court)
        return court
    return work


def button_job(key: str, cfg: RunConfig, label: str, what: str, make_work, button: str):
    """The stored result under key, or a button that starts its job and its live panel."""
    found = results()[key.split(" ", 1)[0]].get(key)
    running = found is None and jobs.active(key)
    if st.button(label, key=button, disabled=found is not None or running,
                 help="runs in the background; disabled once computed for this configuration"):
        if jobs.start_work(key, cfg, make_work()) is not None:
            st.rerun()
    if found is None:
        jobs.live_ui(key, what, cancel_key=button + "_cancel")
    return found


def complexity_ui(cfg: RunConfig, entry: state.TrainedModel) -> None:
    st.subheader("Complexity: IIA against the alignment map")
    st.caption("With unrestricted invertible maps any algorithm aligns with any network "
               "(Sutter et al. 2025): read IIA beside the map that produced it. Orthogonal, "
               "linear, then RevNet maps of growing hidden width h, at every site, for this "
               "network and the random-features control network. Maps are fitted on pairs "
               "built from one half of the entities and tested on the other half.")
    sweep = button_job(complexity_key(cfg), cfg, "Compute the complexity sweep",
                        "Complexity sweep", lambda: sweeper(entry, cfg), "complexity_button")
    if sweep is None:
        return
    common.chart(plots.complexity_lines(sweep.frame, map_order()), stretch=False)
    table = sweep.frame.pivot_table(index=["network", "site"], columns="map", values="iia")
    st.dataframe(table[[m for m in map_order() if m in table.columns]].reset_index(),
                 hide_index=True, key="complexity_table")
    st.caption(f"{sweep.note}; test entities seen in fitting: {sweep.entity_overlap} · "
               f"{sweep.seconds:.0f} s · {cfg.das.hypothesis}, k = {cfg.das.k}")


def _default_map(cfg: RunConfig) -> str:
    own = f"revnet h={cfg.das.map_width}" if cfg.das.map == "revnet" else cfg.das.map
    return own if own in COURT_MAPS else COURT_MAPS[0]


def court_ui(cfg: RunConfig, entry: state.TrainedModel) -> None:
    st.subheader("Hypothesis court")
    st.caption("For one map, each hypothesis's alignment at every site on the same base "
               "inputs and entity-disjoint split; a site supports a hypothesis when its IIA "
               "is high and above the control network's. Where does the network move from "
               "intermediate variables to the answer?")
    if st.session_state.get(COURT_MAP, session.view()[COURT_MAP]) == params.COURT_AUTO:
        st.session_state[COURT_MAP] = _default_map(cfg)
    map_name = widgets.view_ui(st.selectbox, COURT_MAP, "Map", COURT_MAPS)
    court = button_job(court_key(cfg, map_name), cfg, "Hold the court", "Hypothesis court",
                        lambda: courter(entry, cfg, map_name), "court_button")
    if court is None:
        return
    st.success(f"Reading ({map_name} map): {court.reading}")
    trained = court.frame[court.frame.network == "trained"]
    common.chart(plots.court_heatmap(trained), stretch=False)
    table = court.frame.pivot_table(index=["network", "site"], columns="hypothesis",
                                    values="iia").reset_index()
    st.dataframe(table, hide_index=True, key="court_table")
    st.caption(court.note)


@st.cache_data(max_entries=16)
def pair_cells(key: str, _entry: state.TrainedModel, _run: state.AlignmentRun,
               _cfg: RunConfig) -> pd.DataFrame:
    das = _run.das
    return pair_success(_entry.model, das_test_pairs(_cfg), _run.test, das.var_mask, das.map,
                        das.inverse)


def pair_map_ui(cfg: RunConfig, entry: state.TrainedModel, run: state.AlignmentRun) -> None:
    st.subheader("Per-pair success map")
    st.caption("This DAS result's test IIA split by base pattern × source pattern × "
               "intervention type (for 'both', the V1 source's pattern): where the alignment "
               "holds and where it fails, which the aggregate hides.")
    cells = common.attempt("Per-pair success", pair_cells, state.run_key(cfg), entry, run, cfg)
    if cells is not None:
        common.chart(plots.pair_success_heatmap(cells), stretch=False)
        st.dataframe(cells, hide_index=True, key="pair_success_table")


__all__ = ["complexity_ui", "court_ui", "pair_map_ui"]
