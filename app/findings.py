"""Findings page: the shipped study's answers, one chart and a short reading each, one of
FINDINGS.md's six questions at a time (or all of them).

Reads `pretrained/results.csv`, `pretrained/study/*.csv` and the other shipped tables
(`paths.TABLES`: the complexity sweep, the planted grid; explorer.store.tables) and walks
`explorer.study.sections.SECTIONS`, the same spec that `python -m explorer findings` prints;
the readings are filled in from the data. The question selector and the chosen question's
sections are a fragment: choosing another question redraws only them, and only its charts
are drawn (the browser's drawing of a dozen charts' SVG was most of a page switch); the
folded section and the median tables are drawn only while their expanders are open. The
question rides in the link (`findings_question`). The tables, each section's frame and
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

from app import figures, params, session, widgets
from explorer.core.config import RunConfig
from explorer.plots import findings as charts
from explorer.store import paths, tables
from explorer.study.sections import QUESTIONS, SECTIONS, Question, Section, lacking, of_question

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
def load_data(results: str, study: str, shipped: tuple,
              stamp: tuple) -> dict[str, pd.DataFrame]:
    """`shipped`: (part, path) of the other tables; `stamp` (file modification times)
    invalidates the cache when data is regenerated."""
    return tables.load(Path(results), Path(study), {k: Path(v) for k, v in shipped})


def _stamp(files: list[Path]) -> tuple:
    return tuple((str(f), f.stat().st_mtime) for f in files if f.exists())


def version() -> tuple[str, str, tuple, tuple]:
    """The data's paths and file stamps: the key of everything cached from it."""
    results, study = data_paths()
    shipped = table_paths()
    files = [results, *(sorted(study.glob("*.csv")) if study.exists() else []),
             *shipped.values()]
    return (str(results), str(study), tuple((k, str(v)) for k, v in shipped.items()),
            _stamp(files))


def parts() -> frozenset[str]:
    """The data parts present (what `Section.available` and `lacking` ask about)."""
    return _parts(*version())


@st.cache_data(show_spinner=False, max_entries=8)
def _parts(results: str, study: str, shipped: tuple, stamp: tuple) -> frozenset[str]:
    return frozenset(load_data(results, study, shipped, stamp))


@st.cache_data(show_spinner=False, max_entries=64)
def section_parts(key: str, results: str, study: str, shipped: tuple,
                  stamp: tuple) -> tuple[pd.DataFrame, str]:
    """A section's chart frame and reading, computed once per version of the data files."""
    data = load_data(results, study, shipped, stamp)
    section = next(s for s in SECTIONS if s.key == key)
    return section.frame(data), section.reading(data)


def open_key(name: str) -> str:
    """The key of a folded section's (by its key) or median table's (by its part) expander:
    its identity to Streamlit, which keeps whether it is open."""
    return f"findings_open_{name}"


def folded(title: str, name: str):
    """An expander whose contents are drawn only while it is open (opening it reruns): a
    closed one costs the browser nothing."""
    return st.expander(title, key=open_key(name), on_change="rerun")


def section_ui(section: Section, data_version: tuple | None = None) -> None:
    """One available section (`section.available(parts())`): its chart, then its reading;
    a folded section's only while its expander is open."""
    box = folded(section.title, section.key) if section.folded else st
    if section.folded and not box.open:
        return
    frame, reading = section_parts(section.key, *(data_version or version()))
    if not section.folded:
        box.subheader(section.title)
    figures.show(getattr(charts, section.chart), frame, *section.chart_args, stretch=False,
                 container=box)
    box.markdown(reading)


def render(cfg: RunConfig, entry) -> None:  # noqa: ARG001 - same signature as every page
    data_version = version()
    st.markdown("Answers from the shipped study: 5 model seeds per activation (3×16 MLPs), "
                "every number a median across seeds with the seeds' range. Interventions "
                "are causal; probes are descriptive. Details and commands: FINDINGS.md.")
    questions_ui(cfg, data_version)
    tables_ui(_parts(*data_version), data_version)


def choice_label(choice: str) -> str:
    """'2 · Finding it' for a question's choice, 'All' for all of them."""
    if choice == params.ALL_QUESTIONS:
        return "All"
    question = QUESTIONS[int(choice) - 1]
    return f"{question.number} · {question.label}"


@st.fragment
def questions_ui(cfg: RunConfig, data_version: tuple) -> None:
    """The question selector and the chosen question's sections (a fragment)."""
    chosen = widgets.view_ui(st.segmented_control, session.FINDINGS_QUESTION, "Question",
                             params.QUESTION_CHOICES, format_func=choice_label, required=True)
    present = _parts(*data_version)
    for question in QUESTIONS:
        if chosen in (str(question.number), params.ALL_QUESTIONS):
            question_ui(question, present, data_version)
    params.sync_url(cfg)  # a fragment rerun does not reach main()'s sync


def question_ui(question: Question, present: frozenset[str], data_version: tuple) -> None:
    """A question's heading, its available sections, and what regenerates the others."""
    st.header(f"{question.number}. {question.title}")
    sections = of_question(question.number)
    shown = [s for s in sections if s.available(present)]
    if not shown:
        st.markdown(f"No data for question {question.number} here yet.")
    for section in shown:
        section_ui(section, data_version)
    for what, keys in lacking(present, sections).items():
        st.info(f"No {what} data found for {', '.join(keys)}. Regenerate it with "
                f"`{paths.REGENERATE[what]}` (see FINDINGS.md).")


TABLES = (("oracles", ["activation", "alignment", "k"], ["iia", "baseline"],
           "Exact input alignments scored directly"),
          ("range", ["activation", "site", "k", "alignment"],
           ["frac_outside", "mahalanobis"], "How far swapped states leave the natural range"),
          ("illusion", ["activation", "site", "variable", "part"], ["dim", "iia"],
           "Illusion check: row-space vs null-space part of the learned subspace"))


def tables_ui(present: frozenset[str], data_version: tuple) -> None:
    """Oracles, out-of-range and illusion check as median tables across seeds, each drawn
    while its expander is open."""
    for i, (part, _, _, title) in enumerate(TABLES):
        if part in present:
            box = folded(f"{title} (median across seeds)", part)
            if box.open:
                box.dataframe(median_table(i, *data_version), hide_index=True,
                              key=f"findings_{part}")


@st.cache_data(show_spinner=False, max_entries=16)
def median_table(index: int, results: str, study: str, shipped: tuple,
                 stamp: tuple) -> pd.DataFrame:
    """TABLES[index]'s part, its values' medians per key (once per version of the data)."""
    part, keys, values, _ = TABLES[index]
    frame = load_data(results, study, shipped, stamp)[part]
    return frame.groupby(keys, as_index=False, sort=False)[values].median()
