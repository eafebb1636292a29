"""The config and view widgets: what each field's widget is (`Field`: label, range, help),
in the sidebar's groups, and the functions that draw them.

Every widget's `key` is its field's (or view setting's) name, so its value is the session's
(`app.session`) and the link's (`app.params`). Out-of-range values are clamped into the
widget's range *before* it is drawn (Streamlit would raise otherwise) and the clamp is
reported, naming the field and range: as a problem with the link on the run that read it,
as a passing note otherwise.

Budget ranges are tighter than `explorer.core.config.validate` allows, so that one session on a
shared 2-core host stays within seconds to a minute and the stores stay small in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app import glossary, session
from app.params import DEFAULTS, VIEW_DEFAULTS
from explorer.core.config import (ACTIVATIONS, DISTRIBUTIONS, HYPOTHESIS_NAMES, INITS, MAPS,
                                  echo, n_variables)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    low: float | None = None
    high: float | None = None
    options: tuple = ()
    step: float | None = None
    slider: bool = False
    help: str | None = None


NETWORK = (
    Field("activation", "Activation", options=ACTIVATIONS),
    Field("entity_dim", "Entity dims", 1, 32, slider=True, help="dims per entity a, b, c, d"),
    Field("width", "Hidden width", 2, 128, slider=True),
    Field("layers", "Hidden layers", 1, 4, slider=True),
    Field("seed", "Seed", 0, 2**31 - 1, step=1, help="one seed drives every random stream"),
)
TRAINING = (
    Field("distribution", "Entity distribution", options=DISTRIBUTIONS),
    Field("vocab_size", "Vocabulary size", 0, 100_000, step=1,
          help="0: fresh entities per example; else 16 or more, split train/test"),
    Field("train_steps", "Training steps", 0, 50_000, step=100, help="0: the activation's recipe"),
    Field("train_lr", "Learning rate", 0.0, 1.0, step=0.001, help="0: the activation's recipe"),
    Field("train_batch_size", "Batch size", 8, 8192, step=64),
    Field("eval_size", "Held-out examples", 64, 100_000, step=512),
)
ALIGNMENT = (
    Field("hypothesis", "Hypothesis", options=HYPOTHESIS_NAMES, help=glossary.HYPOTHESIS),
    Field("site", "Site (0 = input)", 0, None, slider=True, help=glossary.SITE),
    Field("k", "k (dims per variable)", 1, None, slider=True, help=glossary.K),
    Field("map", "Map", options=MAPS, help=glossary.MAP),
    Field("restarts", "DAS restarts", 1, 16, slider=True, help=glossary.RESTARTS),
)
SEARCH_BUDGET = (
    Field("das_init", "Restart 0 starts at", options=INITS),
    Field("das_steps", "DAS steps (cap)", 1, 20_000, step=50,
          help="the most steps DAS trains; it stops earlier after das_patience steps "
               "without a gain in validation IIA"),
    Field("das_patience", "DAS patience (steps)", 1, 20_000, step=50,
          help="steps without a gain in any restart's validation IIA after which DAS stops "
               "(and counts as converged)"),
    Field("das_lr", "DAS learning rate", 0.0001, 1.0, step=0.001),
    Field("das_batch_size", "DAS batch size", 8, 8192, step=64),
    Field("n_train_pairs", "Train pairs", 64, 50_000, step=256),
    Field("n_val_pairs", "Validation pairs", 64, 20_000, step=256),
    Field("n_test_pairs", "Test pairs", 64, 20_000, step=256),
    Field("n_search_pairs", "Neuron-wise search pairs", 64, 10_000, step=64),
    Field("max_exhaustive", "Max exhaustive subsets", 1, 100_000, step=1000),
)
MAP_WIDTH = Field("map_width", "RevNet width h (complexity)", 1, 64, slider=True,
                  help="hidden width of the RevNet map's coupling blocks: the complexity dial "
                       "(drawn only for the revnet map)")
LABELS = {"both": "Both Equality Relations (V1, V2)", "left": "Left Equality (V1)",
          "identity": "Identity of First Argument (control)",
          "output": "Output Only (V1 = y: skip to the end)"}


def _clamp(field: Field, high) -> str | None:
    """Put the session value inside the widget's range; say so if it had to move. The value
    is always written back: a widget whose range changed is a new widget to Streamlit, and
    only a value set through session state carries over to it."""
    value = st.session_state[field.name]
    st.session_state[field.name] = value
    if field.options:
        if value in field.options:
            return None
        st.session_state[field.name] = field.options[0]
        return (f"**{field.name}**: must be one of {', '.join(field.options)} (got {echo(value)}); "
                f"set to {field.options[0]}")
    if field.low <= value <= high:
        return None
    st.session_state[field.name] = type(value)(min(max(value, field.low), high))
    return (f"**{field.name}**: must be between {field.low} and {high} (got {echo(value)}); "
            f"set to {st.session_state[field.name]}")


def field_ui(field: Field, high=None, container=st):
    """Draw one config widget (key = field name) and return its value."""
    high = field.high if high is None else high
    note = _clamp(field, high)
    if note:  # a value from the link is a problem with the link; otherwise a passing note
        (session.problems() if session.first_run() else session.notes()).append(note)
    key, label = field.name, field.label
    if field.options:
        fmt = (lambda v: LABELS.get(v, v)) if field.name == "hypothesis" else str
        return container.selectbox(label, field.options, key=key, format_func=fmt, help=field.help)
    if field.slider and high > field.low:
        return container.slider(label, field.low, high, key=key, help=field.help)
    if isinstance(DEFAULTS[key], float):
        return container.number_input(label, field.low, high, step=field.step, format="%.4g",
                                      key=key, help=field.help)
    return container.number_input(label, field.low, high, step=field.step or 1, key=key,
                                  help=field.help)


def group_ui(fields: tuple[Field, ...], container=st, bounds: dict | None = None) -> dict:
    return {f.name: field_ui(f, (bounds or {}).get(f.name), container) for f in fields}


def max_k(values: dict) -> int:
    """The most dims per variable the chosen site and hypothesis allow."""
    site_dim = 4 * values["entity_dim"] if values["site"] == 0 else values["width"]
    return max(1, site_dim // n_variables(values["hypothesis"]))


def view_ui(widget, key: str, label: str, options=None, **kwargs):
    """A view widget whose value survives page switches (kept in session) and rides in the
    URL. A value no longer among the options falls back to the first option."""
    ss = st.session_state
    value = ss[key] if key in ss else session.view().get(key, VIEW_DEFAULTS.get(key))
    if options is not None and value not in list(options):
        value = list(options)[0]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None and isinstance(value, (int, float)):
        value = min(max(value, low), high)  # a number widget raises outside its range
    ss[key] = value  # written back every run (see _clamp)
    args = (label,) if options is None else (label, options)
    value = widget(*args, key=key, **kwargs)
    session.view()[key] = value
    return value
