"""Every key this app keeps in `st.session_state`, in one place, each with what it holds.

Three kinds of key share a session's state:

* config widgets: one per flat `RunConfig` field, keyed by the field's name (`CONFIG_KEYS`;
  drawn by `app.widgets`, mirrored in the link by `app.params`);
* view widgets: the page, colourings, the swap draw and the Findings question (`VIEW_KEYS`;
  they ride in the link too, `app.params.VIEWS`), and the model-source widgets;
* the app's own bookkeeping, every name starting with "_" so it never meets a field's.

Buttons, download buttons, tables and the Findings page's lazy expanders (Streamlit keeps
whether one is open; `.open` says it) have keys as well (their identity to Streamlit), but
nothing reads their values back from the session: those keys stay beside their widgets.
This module imports no other part of the app.
"""

from __future__ import annotations

import streamlit as st

from explorer.core.config import RunConfig

CONFIG_KEYS = tuple(RunConfig().to_flat())  # config widgets: one per flat field, its name

# view widgets (their values also in VIEW, so that they survive pages that do not draw them)
PAGE = "page"  # the page radio: one of app.params.PAGE_NAMES
GEO_COLOR = "geo_color"  # geometry page: what colours the PCA points
DAS_COLOR = "das_color"  # DAS page: what colours the rotated PCA points
SWAP_BASE = "swap_base"  # swaps page: the base input's pattern (or random)
SWAP_SOURCE = "swap_source"  # swaps page: the sources' pattern (or random)
SWAP_TYPE = "swap_type"  # swaps page: the intervention type (or random)
SWAP_DRAW = "swap_draw"  # swaps page: which random draw (0, 1, ...)
SWAP_FLIPS = "swap_flips"  # swaps page: draw only pairs whose label the swap changes
SWAP_CHANGED = "swap_changed"  # swaps page: aggregate only label-changing pairs
FINDINGS_QUESTION = "findings_question"  # Findings page: the question shown, "1".."6" or "all"
VIEW_KEYS = (PAGE, GEO_COLOR, DAS_COLOR, SWAP_BASE, SWAP_SOURCE, SWAP_TYPE, SWAP_DRAW,
             SWAP_FLIPS, SWAP_CHANGED, FINDINGS_QUESTION)  # and DIAL_KEYS below: all in the link

# model-source widgets (app.model_source)
SHIPPED_MODEL = "shipped_model"  # the shipped-models selectbox: a catalog label or CUSTOM
UPLOAD_FILE = "upload_checkpoint"  # the checkpoint uploader: the uploaded file or None

# the link and the config (app.params, app.widgets)
SEEDED = "_seeded"  # "this run" on the run that read the link, True on every later run
PROBLEMS = "_url_problems"  # list[str]: problems with the link, shown until dismissed
NOTES = "_notes"  # list[str]: this run's adjustments (k lowered after the site shrank, ...)
VIEW = "_view"  # dict: view setting name -> value, whichever page is drawn
LAST_VALID = "_last_valid"  # dict: the flat config of the last valid widget values

# what the pages compare the current config with (app.common)
LAST_MODEL = "_last_model_flat"  # dict: model fields of the last model shown
LAST_RUN = "_last_run_flat"  # dict: flat config of the last alignment run shown

# the pinned configuration and the first-visit path (app.compare, app.tour)
PIN = "_pin"  # dict | None: flat config pinned for comparison (rides in the link as ?pin=)
PIN_HELD = "_pin_held"  # (flat, model entry, alignment run) kept when pinned, or None
TOUR_OPEN = "_tour_open"  # bool: the first-visit path is shown (until dismissed)
TOUR_STEP = "_tour_step"  # int: which of its questions it shows (0 .. 3)
TOUR_WENT = "_tour_went"  # int | None: the step whose Take me there was pressed last

# this session's models and runs (app.stores, app.model_source)
MODELS_HELD = "_models_held"  # stores.SessionModels: models this session keeps from eviction
RUNS_HELD = "_runs_held"  # stores.SessionModels: likewise, alignment runs
UPLOADS = "_uploaded_models"  # dict: recipe key -> stores.TrainedModel, this session's uploads
# (and the planted networks it chose to use)
UPLOAD_NOTE = "_upload_note"  # (kind, message) of the last upload, or None

# the complexity dial and the Planted source (app.dial, app.planted)
PLANT_FORM = "plant_form"  # Planted source: the planted form (rotated, localist)
PLANT_SITE = "plant_site"  # Planted source: the site the variables are planted at
PLANT_K = "plant_k"  # Planted source: dims per planted variable
PLANT_NOTE = "_plant_note"  # (plant key, kind, message) of the last "Use this planted network"
COURT_MAP = "court_map"  # DAS page: the map family the hypothesis court uses
KEPT_WIDTH = "_map_width_kept"  # int: the RevNet width while its widget is hidden

# background jobs (app.jobs)
JOBS_MINE = "_jobs_mine"  # OrderedDict: job key -> (what, page, flat config), newest last

DIAL_KEYS = (PLANT_FORM, PLANT_SITE, PLANT_K, COURT_MAP)
VIEW_KEYS += DIAL_KEYS
BOOKKEEPING = (SEEDED, PROBLEMS, NOTES, VIEW, LAST_VALID, LAST_MODEL, LAST_RUN, PIN, PIN_HELD,
               TOUR_OPEN, TOUR_STEP, TOUR_WENT, MODELS_HELD, RUNS_HELD, UPLOADS, UPLOAD_NOTE, PLANT_NOTE,
               KEPT_WIDTH, JOBS_MINE)
ALL_KEYS = (*CONFIG_KEYS, *VIEW_KEYS, SHIPPED_MODEL, UPLOAD_FILE, *BOOKKEEPING)


def view() -> dict:
    """View setting name -> value (seeded from the link on the session's first run)."""
    return st.session_state[VIEW]


def problems() -> list[str]:
    """Problems with the link, kept until dismissed."""
    return st.session_state[PROBLEMS]


def notes() -> list[str]:
    """This run's adjustments, shown once."""
    return st.session_state[NOTES]


def uploads() -> dict:
    """This session's uploaded models by recipe key (empty when none)."""
    return st.session_state.get(UPLOADS, {})


def pinned() -> dict | None:
    """The flat config pinned for comparison, or None."""
    return st.session_state.get(PIN)


def first_run() -> bool:
    """Whether this script run is the one that read the link."""
    return st.session_state.get(SEEDED) == "this run"
