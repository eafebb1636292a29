"""Findings page: the shipped study's answers, one chart and a short reading each.

Reads `pretrained/results.csv`, `pretrained/study/*.csv` and the other shipped tables
(`paths.TABLES`: the complexity sweep, the planted grid; explorer.store.tables, cached with
st.cache_data) and walks `explorer.study.sections.SECTIONS`, the same spec that
`python -m explorer findings` prints; the readings are filled in from the data. Nothing is
computed here beyond aggregation: the numbers come from `python -m explorer pretrain` and
`python -m explorer study`. FINDINGS.md says the same with the commands.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from app import common
from explorer.core.config import RunConfig
from explorer.plots import findings as charts
from explorer.store import paths, tables
from explorer.study.sections import SECTIONS, Section, missing

# override paths (tests): results.csv, the study folder, a folder standing in for pretrained/
# where the other shipped tables are (complexity.csv, planted/planted.csv)
RESULTS_ENV, STUDY_ENV, TABLES_ENV = "EXPLORER_RESULTS", "EXPLORER_STUDY", "EXPLORER_TABLES"


def data_paths() -> tuple[Path, Path]:
    return (Path(os.environ.get(RESULTS_ENV, paths.RESULTS)),
            Path(os.environ.get(STUDY_ENV, paths.STUDY)))


def table_paths() -> dict[str, Path]:
    """paths.TABLES, moved under $EXPLORER_TABLES when it is set."""
    root = os.environ.get(TABLES_ENV)
    if root is None:
        return dict(paths.TABLES)
    return {part: Path(root) / path.relative_to(paths.PRETRAINED)
            for part, path in paths.TABLES.items()}


@st.cache_data(show_spinner=False)
def load_data(results: str, study: str, shipped: dict[str, str],
              stamp: tuple) -> dict[str, pd.DataFrame]:
    """`stamp` (file modification times) invalidates the cache when data is regenerated."""
    return tables.load(Path(results), Path(study), {k: Path(v) for k, v in shipped.items()})


def _stamp(files: list[Path]) -> tuple:
    return tuple((str(f), f.stat().st_mtime) for f in files if f.exists())


def study_data() -> dict[str, pd.DataFrame]:
    """The shipped results, study and other tables (cached until a file changes)."""
    results, study = data_paths()
    shipped = table_paths()
    files = [results, *(sorted(study.glob("*.csv")) if study.exists() else []),
             *shipped.values()]
    return load_data(str(results), str(study), {k: str(v) for k, v in shipped.items()},
                     _stamp(files))


def section_ui(section: Section, data: dict[str, pd.DataFrame]) -> None:
    chart = getattr(charts, section.chart)(section.frame(data), *section.chart_args)
    if section.folded:
        with st.expander(section.title):
            common.chart(chart, stretch=False)
            st.markdown(section.reading(data))
        return
    st.subheader(section.title)
    common.chart(chart, stretch=False)
    st.markdown(section.reading(data))


def render(cfg: RunConfig, entry) -> None:  # noqa: ARG001 - same signature as every page
    data = study_data()
    st.markdown("Answers from the shipped study: 5 model seeds per activation (3×16 MLPs), "
                "every number a median across seeds with the seeds' range. Interventions "
                "are causal; probes are descriptive. Details and commands: FINDINGS.md.")
    for section in SECTIONS:
        if section.available(data):
            section_ui(section, data)
    for what in missing(data):
        st.info(f"No {what} data found. Regenerate it with `{paths.REGENERATE[what]}` "
                "(see FINDINGS.md).")
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
