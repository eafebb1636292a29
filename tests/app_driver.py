"""Driving the Streamlit app through `streamlit.testing.v1.AppTest` (imported by the app
test modules, not a conftest): open it with query parameters, switch pages, read metrics."""

from pathlib import Path

import streamlit as st
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


def goto(at: AppTest, page: str) -> AppTest:
    at.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str | None:
    """The value of the metric with this label, None when the page has none."""
    return next((m.value for m in at.metric if m.label == label), None)
