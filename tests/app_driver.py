"""Driving the Streamlit app through `streamlit.testing.v1.AppTest` (imported by the app
test modules, not a conftest): open it with query parameters, switch pages, press buttons
that start background jobs and wait for them, read metrics."""

import json
from pathlib import Path

import pandas as pd
import torch

import streamlit as st
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")


def clear_caches() -> None:
    """Forget what earlier tests cached in this process (models, tables)."""
    st.cache_resource.clear()
    st.cache_data.clear()


def open_app(params: dict, timeout: float = 180) -> AppTest:
    """The app's first run for a link with these query parameters."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(params)
    return at.run()


def finish_jobs(timeout: float = 180) -> None:
    """Wait until this process's background jobs (app.jobs) have all finished."""
    from app.jobs import manager
    assert manager().wait_idle(timeout), "background jobs still running"


def click(at: AppTest, key: str, timeout: float = 180) -> AppTest:
    """Press a button that starts a background job, wait for the job, and rerun the page
    (what the live panel does in a browser when the job ends)."""
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    finish_jobs(timeout)
    return at.run()


def goto(at: AppTest, page: str) -> AppTest:
    at.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str | None:
    """The value of the metric with this label, None when the page has none."""
    return next((m.value for m in at.metric if m.label == label), None)


def heatmap_matrices(at: AppTest) -> list[tuple[str, torch.Tensor]]:
    """Every drawn rotation heatmap (an hconcat of block panels) as (title, (d, d) matrix),
    rebuilt from the chart's own data: unit, coordinate, value."""
    out = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        if "hconcat" not in spec:
            continue
        cells = pd.concat(dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data)
                          for d in chart.proto.datasets)
        d = int(cells.unit.max()) + 1
        matrix = torch.zeros(d, int(cells.coordinate.max()) + 1)
        matrix[cells.unit.tolist(), cells.coordinate.tolist()] = torch.tensor(
            cells.value.tolist(), dtype=torch.float32)
        title = spec.get("title", {})
        out.append((title.get("text", "") if isinstance(title, dict) else str(title), matrix))
    return out
