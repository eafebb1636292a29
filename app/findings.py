"""Findings page: the shipped study's answers, one chart and a short reading each.

Reads `pretrained/results.csv` and `pretrained/study/*.csv` (explorer.store.tables) and
walks `explorer.study.sections.SECTIONS`, the same spec that `python -m explorer findings`
prints; the readings are filled in from the data. The tables, each section's frame and
reading, and (through `app.figures`) its chart are cached with st.cache_data until a file
changes, so a rerun recomputes none of them. Nothing is computed here beyond aggregation:
the numbers come from `python -m explorer pretrain` and `python -m explorer study`.
FINDINGS.md says the same with the commands.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from app import figures
from explorer.core.config import RunConfig
from explorer.plots import findings as charts
from explorer.store import paths, tables
from explorer.study.sections import SECTIONS, Section, missing

RESULTS_ENV, STUDY_ENV = "EXPLORER_RESULTS", "EXPLORER_STUDY"  # override paths (tests)


def data_paths() -> tuple[Path, Path]:
    return (Path(os.environ.get(RESULTS_ENV, paths.RESULTS)),
            Path(os.environ.get(STUDY_ENV, paths.STUDY)))


@st.cache_data(show_spinner=False)
def load_data(results: str, study: str, stamp: tuple) -> dict[str, pd.DataFrame]:
    """`stamp` (file modification times) invalidates the cache when data is regenerated."""
    return tables.load(Path(results), Path(study))


def _stamp(results: Path, study: Path) -> tuple:
    files = [results, *sorted(study.glob("*.csv"))] if study.exists() else [results]
    return tuple((str(f), f.stat().st_mtime) for f in files if f.exists())


def version() -> tuple[str, str, tuple]:
    """The data's paths and file stamps: the key of everything cached from it."""
    results, study = data_paths()
    return str(results), str(study), _stamp(results, study)


def parts() -> frozenset[str]:
    """The data parts present (what `Section.available` and `missing` ask about)."""
    return _parts(*version())


@st.cache_data(show_spinner=False, max_entries=8)
def _parts(results: str, study: str, stamp: tuple) -> frozenset[str]:
    return frozenset(load_data(results, study, stamp))


@st.cache_data(show_spinner=False, max_entries=64)
def section_parts(key: str, results: str, study: str, stamp: tuple) -> tuple[pd.DataFrame, str]:
    """A section's chart frame and reading, computed once per version of the data files."""
    data, section = load_data(results, study, stamp), next(s for s in SECTIONS if s.key == key)
    return section.frame(data), section.reading(data)


def section_ui(section: Section, data_version: tuple | None = None) -> None:
    """One available section (`section.available(parts())`): its chart, then its reading."""
    frame, reading = section_parts(section.key, *(data_version or version()))
    box = st.expander(section.title) if section.folded else st
    if not section.folded:
        box.subheader(section.title)
    figures.show(getattr(charts, section.chart), frame, *section.chart_args, stretch=False,
                 container=box)
    box.markdown(reading)


def render(cfg: RunConfig, entry) -> None:  # noqa: ARG001 - same signature as every page
    data_version = version()
    present = _parts(*data_version)
    st.markdown("Answers from the shipped study: 5 model seeds per activation (3×16 MLPs), "
                "every number a median across seeds with the seeds' range. Interventions "
                "are causal; probes are descriptive. Details and commands: FINDINGS.md.")
    for section in SECTIONS:
        if section.available(present):
            section_ui(section, data_version)
    for what in missing(present):
        st.info(f"No {what} data found. Regenerate it with `{paths.REGENERATE[what]}` "
                "(see FINDINGS.md).")
    tables_ui(present, data_version)


TABLES = (("oracles", ["activation", "alignment", "k"], ["iia", "baseline"],
           "Exact input alignments scored directly"),
          ("range", ["activation", "site", "k", "alignment"],
           ["frac_outside", "mahalanobis"], "How far swapped states leave the natural range"),
          ("illusion", ["activation", "site", "variable", "part"], ["dim", "iia"],
           "Illusion check: row-space vs null-space part of the learned subspace"))


def tables_ui(present: frozenset[str], data_version: tuple) -> None:
    """Oracles, out-of-range and illusion check as median tables across seeds."""
    for i, (part, _, _, title) in enumerate(TABLES):
        if part in present:
            with st.expander(f"{title} (median across seeds)"):
                st.dataframe(median_table(i, *data_version), hide_index=True,
                             key=f"findings_{part}")


@st.cache_data(show_spinner=False, max_entries=16)
def median_table(index: int, results: str, study: str, stamp: tuple) -> pd.DataFrame:
    """TABLES[index]'s part, its values' medians per key (once per version of the data)."""
    part, keys, values, _ = TABLES[index]
    frame = load_data(results, study, stamp)[part]
    return frame.groupby(keys, as_index=False, sort=False)[values].median()
