"""Findings page: the shipped study's answers, one chart and a two-sentence reading each.

Reads `pretrained/results.csv` and `pretrained/study/*.csv` (cached with st.cache_data);
the readings are filled in from the data (explorer.study.readings). Nothing is computed
here beyond aggregation: the numbers come from `python -m explorer pretrain` and
`python -m explorer study`. FINDINGS.md says the same with the commands.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from app import common
from explorer.study import findings, readings
from explorer.plots import findings as charts
from explorer.core.config import RunConfig

ROOT = Path(__file__).resolve().parents[1]
RESULTS_ENV, STUDY_ENV = "EXPLORER_RESULTS", "EXPLORER_STUDY"  # override paths (tests)


def paths() -> tuple[Path, Path]:
    results = Path(os.environ.get(RESULTS_ENV, ROOT / findings.RESULTS))
    return results, Path(os.environ.get(STUDY_ENV, ROOT / findings.STUDY))


@st.cache_data(show_spinner=False)
def load_data(results: str, study: str, stamp: tuple) -> dict[str, pd.DataFrame]:
    """`stamp` (file modification times) invalidates the cache when data is regenerated."""
    return findings.load(Path(results), Path(study))


def _stamp(results: Path, study: Path) -> tuple:
    files = [results, *sorted(study.glob("*.csv"))] if study.exists() else [results]
    return tuple((str(f), f.stat().st_mtime) for f in files if f.exists())


def missing(what: str) -> None:
    st.info(f"No {what} data found. Regenerate it with `{findings.REGENERATE[what]}` "
            "(see FINDINGS.md).")


def section(title: str, chart, reading: str) -> None:
    st.subheader(title)
    common.chart(chart, stretch=False)
    st.markdown(reading)


def render(cfg: RunConfig, entry) -> None:  # noqa: ARG001 - same signature as every page
    results, study = paths()
    data = load_data(str(results), str(study), _stamp(results, study))
    st.markdown("Answers from the shipped study: 5 model seeds per activation (3×16 MLPs), "
                "every number a median across seeds with the seeds' range. Interventions "
                "are causal; probes are descriptive. Details and commands: FINDINGS.md.")
    if "results" in data:
        results_ui(data)
    else:
        missing("results")
    if "search" in data:
        study_ui(data)
    else:
        missing("study")


def results_ui(data: dict[str, pd.DataFrame]) -> None:
    das = findings.das_frame(data["results"])
    section("1 · IIA vs k per activation and site", charts.iia_vs_k(
        das[["activation", "site", "k", "seed", "iia"]]), readings.iia_vs_k(das))
    frame = findings.method_frame(data["results"], data.get("probes"))
    section("2 · DAS vs neuron-wise vs probe vs controls (k = 8)",
            charts.method_comparison(frame, findings.METHODS), readings.methods(frame))


def study_ui(data: dict[str, pd.DataFrame]) -> None:
    search = data["search"]
    section("3 · Search success over restarts, learning rates and starts",
            charts.search_success(search), readings.search_success(search))
    with st.expander("Every restart's test IIA (dashed: the success target)"):
        common.chart(charts.restart_iia(search), stretch=False)
        st.markdown("Each dot is one restart on one model; the dashed line is the input "
                    "oracle's IIA (site 0) or the best IIA found on that model (site 1). "
                    "Random starts at the input cluster near chance far below it.")
    if "basin" in data:
        section("4 · Why the input search fails: IIA near the exact answer",
                charts.basin(data["basin"]), readings.basin(data["basin"]))
    if "maps" in data:
        sizes = findings.boundless_sizes(data["maps"])
        section("5 · Orthogonal vs general linear vs Boundless DAS",
                charts.map_comparison(data["maps"]), readings.maps(data["maps"], sizes))
        common.chart(charts.boundless_sizes(sizes), stretch=False)
        st.markdown(readings.sizes(sizes))
    if "probes" in data:
        section("6 · Linear probes (descriptive, not causal)", charts.probes(data["probes"]),
                readings.probes(data["probes"]))
    if "angles" in data:
        frame = findings.stability_frame(data["angles"], data.get("seed_angles"))
        section("7 · Stability: principal angles between learned subspaces",
                charts.angles(frame[frame.k == 8]), readings.stability(frame))
    tables_ui(data)


def tables_ui(data: dict[str, pd.DataFrame]) -> None:
    """Oracles, out-of-range and illusion check as median tables across seeds."""
    specs = (("oracles", ["activation", "alignment", "k"], ["iia", "baseline"],
              "Exact input alignments scored directly"),
             ("range", ["activation", "site", "k", "alignment"],
              ["frac_outside", "mahalanobis"], "How far swapped states leave the natural range"),
             ("illusion", ["activation", "site", "variable", "part"], ["dim", "iia"],
              "Illusion check: row-space vs null-space part of the learned subspace"))
    for part, keys, values, title in specs:
        if part in data:
            with st.expander(f"{title} (median across seeds)"):
                table = data[part].groupby(keys, as_index=False, sort=False)[values].median()
                st.dataframe(table, hide_index=True, key=f"findings_{part}")
