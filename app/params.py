"""Config widgets and their mirror in the URL.

Every flat config field (`explorer.core.config`) is one widget whose `key` is the field's name,
and one query parameter of the same name. On a session's first run the widgets are seeded
from the URL (values coerced by `RunConfig.from_flat`; bad ones reported and replaced);
after every run the URL is rewritten from the widgets, so a copied link reopens the same
configuration. Out-of-range values are clamped into the widget's range *before* it is drawn
(Streamlit would raise otherwise) and the clamp is reported, naming the field and range.
View settings (the page, colouring, the swap draw) ride along (`VIEWS`): a bad value in
the link is reported and replaced just like a bad config field.

Budget ranges are tighter than `explorer.core.config.validate` allows, so that one session on a
shared 2-core host stays within seconds to a minute and the stores stay small in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

from explorer.core.config import (ACTIVATIONS, DISTRIBUTIONS, HYPOTHESIS_NAMES, INITS, MAPS,
                                  RENAMED, ConfigError, RunConfig, cut, echo, n_variables,
                                  validate)

SEEDED, PROBLEMS, VIEW, LAST_VALID = "_seeded", "_url_problems", "_view", "_last_valid"
NOTES = "_notes"  # this run's adjustments (k lowered after the site shrank, ...)
DEFAULTS = RunConfig().to_flat()


@dataclass(frozen=True)
class View:
    """A view setting in the link: one of `options`, a whole number in [low, high], or a
    yes/no flag (a bool default)."""

    default: Any
    options: tuple = ()
    low: int | None = None
    high: int | None = None


PAGE_NAMES = ("train", "geometry", "neuron", "das", "swaps", "share", "findings")
COLOURS = ("V1", "V2", "label", "pattern")
PATTERN_CHOICES = ("random", "ABCD", "AABB", "AACD", "ABCC")  # explorer.core.task.PATTERNS
VIEWS = {
    "page": View("train", PAGE_NAMES),
    "geo_color": View("V1", COLOURS),
    "das_color": View("V1", COLOURS),
    "swap_base": View("random", PATTERN_CHOICES),
    "swap_source": View("random", PATTERN_CHOICES),
    "swap_type": View("random", ("random", "V1", "V2", "both")),
    "swap_draw": View(0, low=0, high=1_000_000),
    "swap_flips": View(True),
    "swap_changed": View(False),
}
VIEW_DEFAULTS = {name: view.default for name, view in VIEWS.items()}
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
WHOLE = re.compile(r"-?[0-9]{1,30}")  # ASCII digits only: not ², ①, --5


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
    Field("hypothesis", "Hypothesis", options=HYPOTHESIS_NAMES),
    Field("site", "Site (0 = input)", 0, None, slider=True),
    Field("k", "k (dims per variable)", 1, None, slider=True),
    Field("map", "Map", options=MAPS),
    Field("restarts", "DAS restarts", 1, 16, slider=True),
)
MAP_WIDTH = Field("map_width", "RevNet width h (complexity)", 1, 64, slider=True,
                  help="hidden width of the RevNet map's coupling blocks: the complexity dial "
                       "(drawn only for the revnet map)")
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
    Field("n_search_pairs", "Neuron-search pairs", 64, 10_000, step=64),
    Field("max_exhaustive", "Max exhaustive subsets", 1, 100_000, step=1000),
)
LABELS = {"both": "Both Equality Relations (V1, V2)", "left": "Left Equality (V1)",
          "identity": "Identity of First Argument (control)",
          "output": "Output Only (V1 = y: skip to the end)"}


def seed_from_url() -> None:
    """Once per session: widget values from the query parameters, defaults elsewhere.
    Problems with the link stay on screen (PROBLEMS); later adjustments last one run."""
    ss = st.session_state
    ss[NOTES] = []
    if ss.get(SEEDED):
        ss[SEEDED] = True  # no longer the first run
        return
    params, problems = st.query_params.to_dict(), []
    for old, new in RENAMED.items():  # a link of older names still opens the same config
        if old in params:
            params.setdefault(new, params.pop(old))
    for name, default in DEFAULTS.items():
        ss[name] = default
        if name in params:
            try:
                ss[name] = RunConfig.from_flat({name: params[name]}).to_flat()[name]
            except ConfigError as err:
                problems.append(f"**{err.field}**: {err.message}; using {default!r}")
    ss[VIEW] = dict(VIEW_DEFAULTS)
    for name, view in VIEWS.items():
        if name in params:
            try:
                ss[VIEW][name] = coerce_view(view, params[name])
            except ValueError as err:
                problems.append(f"**{name}**: {err}; using {view.default!r}")
    unknown = sorted(set(params) - set(DEFAULTS) - set(VIEWS))
    problems += [f"**{cut(name)}**: unknown link parameter, ignored" for name in unknown]
    ss[PROBLEMS], ss[SEEDED] = problems, "this run"


def coerce_view(view: View, text: str):
    """The view setting a link's text gives, or ValueError saying what is allowed."""
    text = str(text).strip()
    if isinstance(view.default, bool):
        if text.lower() in TRUE + FALSE:
            return text.lower() in TRUE
        raise ValueError(f"must be true or false (got {echo(text)})")
    if isinstance(view.default, int):
        if WHOLE.fullmatch(text) and view.low <= int(text) <= view.high:
            return int(text)
        raise ValueError(f"must be a whole number (digits 0-9) between {view.low} and "
                         f"{view.high} (got {echo(text)})")
    if text in view.options:
        return text
    raise ValueError(f"must be one of {', '.join(view.options)} (got {echo(text)})")


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
        from_link = st.session_state.get(SEEDED) == "this run"
        st.session_state[PROBLEMS if from_link else NOTES].append(note)
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


def current_config(values: dict) -> tuple[RunConfig, ConfigError | None]:
    """The config the widgets describe, or the last valid one and the error."""
    try:
        cfg = validate(RunConfig.from_flat(values))
    except ConfigError as err:
        last = st.session_state.get(LAST_VALID)
        return (RunConfig.from_flat(last) if last else RunConfig()), err
    st.session_state[LAST_VALID] = cfg.to_flat()
    return cfg, None


def view_ui(widget, key: str, label: str, options=None, **kwargs):
    """A view widget whose value survives page switches (kept in session) and rides in the
    URL. A value no longer among the options falls back to the first option."""
    ss = st.session_state
    value = ss[key] if key in ss else ss[VIEW].get(key, VIEW_DEFAULTS.get(key))
    if options is not None and value not in list(options):
        value = list(options)[0]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None and isinstance(value, (int, float)):
        value = min(max(value, low), high)  # a number widget raises outside its range
    ss[key] = value  # written back every run (see _clamp)
    args = (label,) if options is None else (label, options)
    value = widget(*args, key=key, **kwargs)
    ss[VIEW][key] = value
    return value


def url_params(cfg: RunConfig) -> dict[str, str]:
    """The query parameters that reproduce this config and view."""
    wanted = {name: str(value) for name, value in cfg.to_flat().items()}
    return wanted | {name: str(value) for name, value in st.session_state[VIEW].items()}


def sync_url(cfg: RunConfig) -> None:
    """Rewrite the query string from the config and view settings (only when it changed)."""
    wanted = url_params(cfg)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def changed_fields(old: dict, new: dict) -> str:
    """'width 16 → 32, seed 0 → 1' for the fields that differ."""
    return ", ".join(f"{k} {old[k]} → {new[k]}" for k in new if k in old and old[k] != new[k])
