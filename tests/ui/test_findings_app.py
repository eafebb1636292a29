"""The Findings page through AppTest: it renders its charts from the CSVs, a reading's
number is the median pandas computes from the same CSV, and missing data gives an info
message with the command that regenerates it (never an exception)."""

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.findings import RESULTS_ENV, STUDY_ENV, TABLES_ENV

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
SHIPPED_RESULTS, SHIPPED_STUDY = ROOT / "pretrained/results.csv", ROOT / "pretrained/study"


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()


def findings_page(monkeypatch, results: Path, study: Path, shipped: Path | None = None) -> AppTest:
    """The Findings page on these tables; the complexity and planted tables are read from
    `shipped` (a stand-in for pretrained/), by default from none."""
    monkeypatch.setenv(RESULTS_ENV, str(results))
    monkeypatch.setenv(STUDY_ENV, str(study))
    monkeypatch.setenv(TABLES_ENV, str(shipped or study / "no-tables"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["page"] = "findings"
    at.run()
    assert not at.exception, at.exception
    return at


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
    infos = " ".join(i.value for i in at.info)
    assert "python -m explorer pretrain" in infos and "python -m explorer study" in infos
    assert len(at.get("vega_lite_chart")) == 0


def test_reading_numbers_are_the_medians_of_the_csv(monkeypatch, tmp_path):
    results = synthetic_results(tmp_path / "results.csv")
    at = findings_page(monkeypatch, tmp_path / "results.csv", tmp_path / "no-study")
    das = results[(results.method == "das") & (results.hypothesis == "both")]
    relu8 = das[(das.activation == "relu") & (das.site == 1) & (das.k == 8)].iia.median()
    sigmoid8 = das[(das.activation == "sigmoid") & (das.site == 1) & (das.k == 8)].iia.median()
    neuron = results[(results.method == "neuron") & (results.hypothesis == "both")
                     & (results.activation == "relu") & (results.site == 1) & (results.k == 8)]
    text = texts(at)
    assert f"median IIA of {relu8:.3f}" in text and f"{sigmoid8:.3f}" in text
    assert f"against {neuron.iia.median():.3f} for the best neuron-wise" in text
    assert len(at.get("vega_lite_chart")) == 2  # IIA vs k and the method comparison
    assert "python -m explorer study" in " ".join(i.value for i in at.info)


@pytest.mark.skipif(not (SHIPPED_STUDY / "search.csv").exists(), reason="no shipped study")
def test_shipped_findings_render_every_chart(monkeypatch):
    at = findings_page(monkeypatch, SHIPPED_RESULTS, SHIPPED_STUDY, SHIPPED_STUDY.parent)
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 8
    assert all(json.loads(c.proto.spec).get("usermeta") for c in charts)
    search = pd.read_csv(SHIPPED_STUDY / "search.csv")
    rows = search[(search.activation == "relu") & (search.init == "random")
                  & (search.site == 0) & (search.k == 4)]
    assert f"succeeds in {rows.success.mean():.0%} (ReLU)" in texts(at)
    assert not [i for i in at.info if "data found" in i.value]  # every part present
    heads = [h.value for h in at.subheader]
    assert any(h.startswith("9 ·") for h in heads) and any(h.startswith("10 ·") for h in heads)
    planted = pd.read_csv(SHIPPED_STUDY.parent / "planted" / "planted.csv")
    nets = planted.drop_duplicates(["activation", "form", "seed"])
    assert f"{(~nets.plant_failed).sum()} of {len(nets)} plants took" in texts(at)


def test_budget_section_draws_both_curves_and_the_reading_of_the_csv(monkeypatch, tmp_path):
    from tests.study.test_sections import synthetic_budget

    study = tmp_path / "study"
    study.mkdir()
    synthetic_budget().to_csv(study / "budget.csv", index=False)
    at = findings_page(monkeypatch, tmp_path / "none.csv", study)
    assert len(at.get("vega_lite_chart")) == 2  # success and best IIA against budget
    assert "| orthogonal k = 8 | relu | 0/16 (0%) | 6/16 (38%) | 3 of 4 |" in texts(at)
    assert [s.value for s in at.subheader][:1] == ["4 · Search success against budget at the input"]
    infos = " ".join(i.value for i in at.info)
    assert "python -m explorer pretrain" in infos and "--parts budget" not in infos
