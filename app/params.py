"""The link: URL query parameters <-> the config and view settings (widgets: `app.widgets`).

Every flat config field (`explorer.core.config`) is one widget whose `key` is the field's
name, and one query parameter of the same name. On a session's first run the widgets are
seeded from the URL (values coerced by `RunConfig.from_flat`; bad ones reported and
replaced); after every run the URL is rewritten from the widgets, so a copied link reopens
the same configuration. View settings (the page, colouring, the swap draw, the Findings
question) ride along (`VIEWS`): a bad value in the link is reported and replaced just like a
bad config field.
A pinned configuration (`app.compare`) rides as `?pin=activation:relu,k:4`, its fields that
differ from the defaults (`encode_pin` / `decode_pin`); a bad pin is reported and ignored.
`current_config` turns the widgets' values into a validated config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app import session
from app.session import LAST_VALID, NOTES, PIN, PROBLEMS, SEEDED, VIEW
from explorer.analysis.court import COURT_MAPS
from explorer.core.config import RENAMED, ConfigError, RunConfig, cut, echo, validate
from explorer.study.sections import QUESTIONS

DEFAULTS = RunConfig().to_flat()


@dataclass(frozen=True)
class View:
    """A view setting in the link: one of `options`, a whole number in [low, high], or a
    yes/no flag (a bool default)."""

    default: Any
    options: tuple = ()
    low: int | None = None
    high: int | None = None


COURT_AUTO = "auto"  # the court's map: the one the config's DAS uses
PAGE_NAMES = ("train", "geometry", "neuron", "das", "swaps", "share", "findings")
COLOURS = ("V1", "V2", "label", "pattern")
PATTERN_CHOICES = ("random", "ABCD", "AABB", "AACD", "ABCC")  # explorer.core.task.PATTERNS
ALL_QUESTIONS = "all"  # the Findings page shows every question
QUESTION_CHOICES = (*(str(q.number) for q in QUESTIONS), ALL_QUESTIONS)  # "1" .. "6", "all"
VIEWS = {
    session.PAGE: View("train", PAGE_NAMES),
    session.GEO_COLOR: View("V1", COLOURS),
    session.DAS_COLOR: View("V1", COLOURS),
    session.SWAP_BASE: View("random", PATTERN_CHOICES),
    session.SWAP_SOURCE: View("random", PATTERN_CHOICES),
    session.SWAP_TYPE: View("random", ("random", "V1", "V2", "both")),
    session.SWAP_DRAW: View(0, low=0, high=1_000_000),
    session.SWAP_FLIPS: View(True),
    session.SWAP_CHANGED: View(False),
    session.FINDINGS_QUESTION: View(QUESTION_CHOICES[0], QUESTION_CHOICES),
    session.PLANT_FORM: View("rotated", ("rotated", "localist")),
    session.PLANT_SITE: View(1, low=1, high=4),  # the widgets' most layers
    session.PLANT_K: View(4, low=1, high=64),  # half the widgets' widest layer
    session.COURT_MAP: View(COURT_AUTO, (COURT_AUTO, *COURT_MAPS)),
}
VIEW_DEFAULTS = {name: view.default for name, view in VIEWS.items()}
PIN_PARAM, PIN_DEFAULTS = "pin", "defaults"  # the link's pin; the pin of the default config
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
WHOLE = re.compile(r"-?[0-9]{1,30}")  # ASCII digits only: not ², ①, --5


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
    ss[PIN] = None
    if PIN_PARAM in params:
        try:
            ss[PIN] = decode_pin(params[PIN_PARAM])
        except ValueError as err:
            problems.append(f"**{PIN_PARAM}**: {err}; nothing pinned")
    unknown = sorted(set(params) - set(DEFAULTS) - set(VIEWS) - {PIN_PARAM})
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


def encode_pin(flat: dict) -> str:
    """'activation:relu,k:4': the fields of a flat config that differ from the defaults."""
    return ",".join(f"{k}:{v}" for k, v in flat.items() if DEFAULTS[k] != v) or PIN_DEFAULTS


def decode_pin(text: str) -> dict:
    """The valid flat config a link's pin names, or ValueError saying what is wrong."""
    text, values = str(text).strip(), {}
    if text == PIN_DEFAULTS:
        return dict(DEFAULTS)
    for part in text.split(","):
        name, colon, value = part.partition(":")
        if not colon or not name.strip():
            raise ValueError("must be name:value pairs separated by commas (e.g. "
                             f"activation:relu,k:4) or {PIN_DEFAULTS} (got {echo(text)})")
        values[name.strip()] = value.strip()
    try:
        return validate(RunConfig.from_flat(values)).to_flat()
    except ConfigError as err:
        raise ValueError(f"{err.field}: {err.message}") from None


def current_config(values: dict) -> tuple[RunConfig, ConfigError | None]:
    """The config the widgets describe, or the last valid one and the error."""
    try:
        cfg = validate(RunConfig.from_flat(values))
    except ConfigError as err:
        last = st.session_state.get(LAST_VALID)
        return (RunConfig.from_flat(last) if last else RunConfig()), err
    st.session_state[LAST_VALID] = cfg.to_flat()
    return cfg, None


def url_params(cfg: RunConfig) -> dict[str, str]:
    """The query parameters that reproduce this config and view."""
    wanted = {name: str(value) for name, value in cfg.to_flat().items()}
    if session.pinned() is not None:
        wanted[PIN_PARAM] = encode_pin(session.pinned())
    return wanted | {name: str(value) for name, value in session.view().items()}


def sync_url(cfg: RunConfig) -> None:
    """Rewrite the query string from the config and view settings (only when it changed)."""
    wanted = url_params(cfg)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def changed_fields(old: dict, new: dict) -> str:
    """'width 16 → 32, seed 0 → 1' for the fields that differ."""
    return ", ".join(f"{k} {old[k]} → {new[k]}" for k in new if k in old and old[k] != new[k])
