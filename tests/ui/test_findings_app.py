"""The Findings page through AppTest: it renders its charts from the CSVs, one question at
a time (question 1 first, "All" for every section; the choice rides in the link), a
reading's number is the median pandas computes from the same CSV, and missing data gives an
info message with the command that regenerates it (never an exception)."""

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.findings import RESULTS_ENV, STUDY_ENV, TABLES, TABLES_ENV, open_key
from app.session import FINDINGS_QUESTION
from explorer.store import paths, tables
from explorer.study.sections import QUESTIONS, SECTIONS

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
SHIPPED_RESULTS, SHIPPED_STUDY = ROOT / "pretrained/results.csv", ROOT / "pretrained/study"


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()


def findings_page(monkeypatch, results: Path, study: Path, shipped: Path | None = None,
                  link: dict | None = None) -> AppTest:
    """The Findings page on these tables; the complexity and planted tables are read from
    `shipped` (a stand-in for pretrained/), by default from none."""
    monkeypatch.setenv(RESULTS_ENV, str(results))
    monkeypatch.setenv(STUDY_ENV, str(study))
    monkeypatch.setenv(TABLES_ENV, str(shipped or study / "no-tables"))
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in {"page": "findings", **(link or {})}.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def choose(at: AppTest, choice: str) -> AppTest:
    """Pick a question ("1".."6") or "all" in the page's selector."""
    at.segmented_control(key=FINDINGS_QUESTION).set_value(choice).run()
    assert not at.exception, at.exception
    return at


def shipped_page(monkeypatch, link: dict | None = None) -> AppTest:
    return findings_page(monkeypatch, SHIPPED_RESULTS, SHIPPED_STUDY, SHIPPED_STUDY.parent, link)


def expected(questions) -> list:
    """The oracle: the sections of these questions the shipped data allows, in SECTIONS order."""
    data = tables.load(SHIPPED_RESULTS, SHIPPED_STUDY, paths.TABLES)
    return [s for s in SECTIONS if s.question in questions and s.available(data)]


def drawn(at: AppTest) -> tuple[list[str], int]:
    """The page's section titles (subheaders and the folded sections' expanders) and charts."""
    folded = {s.title for s in SECTIONS if s.folded}
    titles = [h.value for h in at.main.subheader] + [e.label for e in at.main.expander
                                                     if e.label in folded]
    return titles, len(at.get("vega_lite_chart"))


def titles_of(sections) -> list[str]:
    return ([s.title for s in sections if not s.folded]
            + [s.title for s in sections if s.folded])


def charts_of(sections) -> int:
    """The charts these sections draw while the folded ones stay closed: one each."""
    return sum(not s.folded for s in sections)


def open_folded(at: AppTest, names) -> AppTest:
    """Open these folded sections' or tables' expanders (as a click on them would)."""
    for name in names:
        at.session_state[open_key(name)] = True
    at.run()
    assert not at.exception, at.exception
    return at


needs_shipped = pytest.mark.skipif(not (SHIPPED_STUDY / "search.csv").exists(),
                                   reason="no shipped study")


def synthetic_results(path: Path) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"method": m, "hypothesis": h, "width": 16, "activation": a, "site": site, "k": k,
             "seed": seed, "iia": float(rng.uniform(0.5, 1.0)), "untrained_das_iia": 0.5,
             "random_rotation_iia": 0.5}
            for m, h, a, site, k, seed in itertools.product(
                ("das", "neuron"), ("both", "identity"), ("relu", "sigmoid"), range(4),
                (1, 2, 4, 8), range(5))]
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_missing_data_gives_info_with_the_commands(monkeypatch, tmp_path):
    at = findings_page(monkeypatch, tmp_path / "none.csv", tmp_path / "no-study")
    infos = " ".join(i.value for i in at.info)  # question 1: methods (results), probes (study)
    assert "python -m explorer pretrain" in infos and "python -m explorer study" in infos
    assert "--parts budget" not in infos and "No data for question 1 here yet." in texts(at)
    assert len(at.get("vega_lite_chart")) == 0
    choose(at, "all")
    infos = " ".join(i.value for i in at.info)
    assert all(f"`{command}`" in infos for command in paths.REGENERATE.values())
    assert all(f"No data for question {q.number} here yet." in texts(at) for q in QUESTIONS)
    assert len(at.get("vega_lite_chart")) == 0


def test_reading_numbers_are_the_medians_of_the_csv(monkeypatch, tmp_path):
    results = synthetic_results(tmp_path / "results.csv")
    at = findings_page(monkeypatch, tmp_path / "results.csv", tmp_path / "no-study")
    das = results[(results.method == "das") & (results.hypothesis == "both")]
    relu8 = das[(das.activation == "relu") & (das.site == 1) & (das.k == 8)].iia.median()
    sigmoid8 = das[(das.activation == "sigmoid") & (das.site == 1) & (das.k == 8)].iia.median()
    neuron = results[(results.method == "neuron") & (results.hypothesis == "both")
                     & (results.activation == "relu") & (results.site == 1) & (results.k == 8)]
    assert f"against {neuron.iia.median():.3f} for the best neuron-wise" in texts(at)
    assert len(at.get("vega_lite_chart")) == 1  # question 1: the method comparison
    assert f"median IIA of {relu8:.3f}" not in texts(at)  # IIA vs k answers question 4
    choose(at, "all")
    text = texts(at)
    assert f"median IIA of {relu8:.3f}" in text and f"{sigmoid8:.3f}" in text
    assert f"against {neuron.iia.median():.3f} for the best neuron-wise" in text
    assert len(at.get("vega_lite_chart")) == 2  # IIA vs k and the method comparison
    assert "python -m explorer study" in " ".join(i.value for i in at.info)
    choose(at, "3")  # basin and maps: study data only
    assert "No data for question 3 here yet." in texts(at) and not at.get("vega_lite_chart")
    assert [i.value for i in at.info] == [
        "No study data found for basin, maps. Regenerate it with "
        f"`{paths.REGENERATE['study']}` (see FINDINGS.md)."]


@needs_shipped
def test_shipped_findings_render_every_chart(monkeypatch):
    at = choose(shipped_page(monkeypatch), "all")
    open_folded(at, [s.key for s in SECTIONS if s.folded])
    charts = at.get("vega_lite_chart")
    assert len(charts) == len(SECTIONS) and len(charts) >= 8
    assert all(json.loads(c.proto.spec).get("usermeta") for c in charts)
    search = pd.read_csv(SHIPPED_STUDY / "search.csv")
    rows = search[(search.activation == "relu") & (search.init == "random")
                  & (search.site == 0) & (search.k == 4)]
    assert f"succeeds in {rows.success.mean():.0%} (ReLU)" in texts(at)
    assert not [i for i in at.info if "data found" in i.value]  # every part present
    heads = [h.value for h in at.subheader]
    assert any(h.startswith("5 ·") for h in heads) and any(h.startswith("6 ·") for h in heads)
    planted = pd.read_csv(SHIPPED_STUDY.parent / "planted" / "planted.csv")
    nets = planted.drop_duplicates(["activation", "form", "seed"])
    assert f"{(~nets.plant_failed).sum()} of {len(nets)} plants took" in texts(at)


def test_budget_section_draws_both_curves_and_the_reading_of_the_csv(monkeypatch, tmp_path):
    from tests.study.test_sections import synthetic_budget

    study = tmp_path / "study"
    study.mkdir()
    synthetic_budget().to_csv(study / "budget.csv", index=False)
    at = findings_page(monkeypatch, tmp_path / "none.csv", study, link={FINDINGS_QUESTION: "2"})
    assert len(at.get("vega_lite_chart")) == 2  # success and best IIA against budget
    assert "| orthogonal k = 8 | relu | 0/16 (0%) | 6/16 (38%) | 3 of 4 |" in texts(at)
    assert [s.value for s in at.main.subheader] == [
        "2b · Search success against budget at the input",
        "2c · Best validation IIA against budget at the input"]
    infos = " ".join(i.value for i in at.info)  # question 2 lacks the study's search and angles
    assert "for search success, every restart, stability" in infos
    assert "python -m explorer study" in infos and "--parts budget" not in infos
    choose(at, "all")
    infos = " ".join(i.value for i in at.info)
    assert "python -m explorer pretrain" in infos and "--parts budget" not in infos


@needs_shipped
def test_the_default_is_question_1_and_each_question_draws_its_own_sections(monkeypatch):
    at = shipped_page(monkeypatch)
    assert at.segmented_control(key=FINDINGS_QUESTION).value == "1"
    ones = expected({1})
    assert drawn(at) == (titles_of(ones), charts_of(ones))
    assert len(ones) >= 2
    for question in QUESTIONS:
        choose(at, str(question.number))
        sections = expected({question.number})
        assert drawn(at) == (titles_of(sections), charts_of(sections)), question.number
        assert [h.value for h in at.main.header] == [f"{question.number}. {question.title}"]
        assert at.query_params[FINDINGS_QUESTION] == str(question.number)  # in the link
    choose(at, "all")
    every = expected({q.number for q in QUESTIONS})
    assert drawn(at) == (titles_of(every), charts_of(SECTIONS))
    assert [h.value for h in at.main.header] == [f"{q.number}. {q.title}" for q in QUESTIONS]
    assert len(at.main.expander) == sum(s.folded for s in SECTIONS) + 3  # and the 3 tables
    assert [e.label.split(" (median")[0] for e in at.main.expander][-3:] == [
        "Exact input alignments scored directly", "How far swapped states leave the natural "
        "range", "Illusion check: row-space vs null-space part of the learned subspace"]


@needs_shipped
@pytest.mark.parametrize("value, question, problem", [("4", 4, False), ("all", None, False),
                                                      ("9", 1, True), (" 2x", 1, True)])
def test_a_link_opens_on_its_question_and_a_bad_one_falls_back_to_1(monkeypatch, value,
                                                                   question, problem):
    at = shipped_page(monkeypatch, {FINDINGS_QUESTION: value})
    shown = expected({question} if question else {q.number for q in QUESTIONS})
    assert drawn(at)[0] == titles_of(shown)
    errors = " ".join(e.value for e in at.error)
    assert ("**findings_question**: must be one of 1, 2, 3, 4, 5, 6, all" in errors) == problem
    assert ("using '1'" in errors) == problem
    assert at.query_params[FINDINGS_QUESTION] == str(question or "all")


@needs_shipped
def test_folded_sections_and_the_tables_are_drawn_only_while_open(monkeypatch):
    at = shipped_page(monkeypatch, {FINDINGS_QUESTION: "2"})
    restarts = next(s for s in SECTIONS if s.folded)
    assert restarts.question == 2 and restarts.available(tables.load(
        SHIPPED_RESULTS, SHIPPED_STUDY, paths.TABLES))
    closed = len(at.get("vega_lite_chart"))
    assert len(at.main.dataframe) == 0 and RESTARTS_TEXT not in texts(at)
    open_folded(at, [restarts.key])
    assert len(at.get("vega_lite_chart")) == closed + 1 and RESTARTS_TEXT in texts(at)
    open_folded(at, [part for part, *_ in TABLES])
    assert len(at.main.dataframe) == len(TABLES)
    for (part, keys, values, _), shown in zip(TABLES, at.main.dataframe):
        raw = pd.read_csv(SHIPPED_STUDY / f"{part}.csv", keep_default_na=False, na_values=[""])
        for _, row in shown.value.iterrows():  # the oracle: pandas on the CSV, by hand
            match = raw[np.logical_and.reduce([raw[k] == row[k] for k in keys])]
            for value in values:
                assert row[value] == pytest.approx(match[value].median()), (part, value)


RESTARTS_TEXT = "Each dot is one restart on one model"
