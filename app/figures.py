"""Charts drawn from a cached Vega-Lite spec: a chart builder (`explorer.plots`) runs, and
Altair validates what it built, once per distinct input, not on every rerun of the page.

    show(builder, *args, **kwargs)   draws builder(*args, **kwargs), its spec cached by the
                                     builder's name and the arguments' values (st.cache_data:
                                     frames hash by value)

The spec is exactly the one st.altair_chart makes of the same chart (Streamlit's own
conversion: the data as Arrow datasets, the same theme), so a cached chart shows the same
marks and numbers. Where Streamlit no longer has that conversion, charts are drawn uncached.
Light on purpose (Streamlit only, no engine): `app.glance` draws through it on a cold start.
"""

from __future__ import annotations

import importlib

import streamlit as st

try:  # the conversion st.altair_chart applies (private: guarded, with a fallback)
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec as _convert
except ImportError:  # pragma: no cover - another Streamlit version
    _convert = None


def show(builder, *args, stretch: bool = True, container=None, **kwargs) -> None:
    """Draw builder(*args, **kwargs) (stretched to the column's width, or at its own), built
    and validated only for inputs not seen before; in `container` (default: here)."""
    if _convert is None:
        (container or st).altair_chart(builder(*args, **kwargs), width=_width(stretch))
        return
    chart = _cached(builder.__module__, builder.__qualname__, args, tuple(sorted(kwargs.items())))
    (container or st).vega_lite_chart(spec=chart, width=_width(stretch))


def _width(stretch: bool) -> str:
    return "stretch" if stretch else "content"


@st.cache_data(max_entries=128, show_spinner=False)  # most specs are tens of kB
def _cached(module: str, name: str, args: tuple, kwargs: tuple) -> dict:
    """The spec of module.name(*args, **dict(kwargs)), keyed by the names and the values."""
    builder = getattr(importlib.import_module(module), name)
    return _convert(builder(*args, **dict(kwargs)))
