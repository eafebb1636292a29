"""The Planted model source (sidebar): a network trained with V1 and V2 planted at a site
(IIT), every method's recovery of it, and a button that makes it this session's model.

For a configuration the shipped planted grid holds (`explorer.runs.planted_grid`: 3 x 16,
site 1, k = 4, seeds 0-4, ReLU / sigmoid / tanh, localist or rotated) the recovery table is
read from pretrained/planted/planted.csv and the checkpoint from its models/ folder, at once.
Any other configuration plants and recovers in a background job (`app.dial.button_job`).

"Use this planted network" keeps the checkpoint as an upload is kept
(`app.model_source.handle_upload`, source "planted"): its on_click callback runs before the
script, so it may point the widgets at the planted config, and `find_model` then returns
the planted network on every page. A config outside the app's widget ranges is refused
with a message, and the model on screen stays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd
import streamlit as st

from app import dial, model_source, stores as state, widgets
from app.session import PLANT_FORM, PLANT_K, PLANT_NOTE, PLANT_SITE
from explorer.core.config import RunConfig
from explorer.runs import planted_grid
from explorer.runs.planting import PLANT_DEFAULTS, PLANT_THRESHOLD, plant_config

FORMS = ("rotated", "localist")
COLUMNS = ["method", "iia", "used_angle_deg", "max_angle_deg", "found"]  # the recovery table


def planted_config(cfg: RunConfig, site: int, k: int) -> RunConfig:
    """The config a plant of cfg's network at site, k trains (the planting recipe written out,
    the plant command's DAS budget)."""
    return plant_config(cfg.with_values(site=site, k=k, das_steps=PLANT_DEFAULTS["das_steps"]))


def plant_key(cfg: RunConfig, form: str, site: int, k: int) -> str:
    """One key for a plant (its job, its result, its note): the same before and after the
    widgets are pointed at the planted config, which writes the recipe out."""
    return f"plant {dial.digest([state.model_flat(planted_config(cfg, site, k)), form, site, k])}"


def planter(cfg: RunConfig, form: str, site: int, k: int):
    from explorer.runs import planting

    store, key = dial.results()["plant"], plant_key(cfg, form, site, k)
    plant_cfg = planted_config(cfg, site, k)
    settings = planting.PlantSettings(form=form, map_width=cfg.das.map_width)

    def work(progress=None):
        result = planting.plant_and_recover(plant_cfg, settings, progress=progress)
        store.put(key, result)
        return result
    return work


@st.cache_data(max_entries=2, show_spinner=False)
def grid_table(out: str, stamp: float | None) -> pd.DataFrame | None:
    """planted.csv under out (None when missing); `stamp`, its mtime, renews the entry."""
    return planted_grid.load(out)


def _grid() -> pd.DataFrame | None:
    csv = Path(planted_grid.OUT) / "planted.csv"
    return grid_table(str(planted_grid.OUT), csv.stat().st_mtime if csv.exists() else None)


def grid_rows(cfg: RunConfig, form: str, site: int, k: int) -> tuple[pd.DataFrame, Path] | None:
    """The shipped grid network planting this would train: its rows of planted.csv (planted
    hypothesis, default budget) and its checkpoint; None off the grid or without the table."""
    network = planted_grid.grid_network(cfg, form, site, k)
    table = None if network is None else _grid()
    if table is None:
        return None
    activation, seed = network
    rows = planted_grid.recovery_rows(table, activation, form, seed)
    path = planted_grid.checkpoint_path(planted_grid.OUT, activation, form, seed)
    return (rows, path) if len(rows) else None


def recovery_table(result) -> pd.DataFrame:
    """A finished plant's recovery, from its report: one row per method (COLUMNS)."""
    rec = result.summary()["recovery"]
    return pd.DataFrame([{"method": m, **{c: r[c] for c in COLUMNS[1:]}}
                         for m, r in rec.items()])


def _use(key: str, name: str, load: Callable[[], bytes]) -> None:
    """on_click of "Use this planted network" (before the script: the widgets may change)."""
    try:
        data = load()
    except OSError as err:
        note = "error", f"**{name}** was not loaded: {err}. The current model is unchanged."
    else:
        note = model_source.handle_upload(name, data, state.PLANTED)
    st.session_state[PLANT_NOTE] = (key, *note)


def report_ui(box, cfg: RunConfig, key: str, report: dict, table: pd.DataFrame, name: str,
              load: Callable[[], bytes]) -> None:
    """Task accuracy, planted IIA, the recovery table and the button that uses the network.
    report: task_accuracy, planted_iia (None: nothing planted), failed."""
    box.metric("Task accuracy", f"{report['task_accuracy']:.3f}")
    iia = report["planted_iia"]
    box.metric("Planted IIA", "-" if iia is None or pd.isna(iia) else f"{iia:.3f}")
    if report["failed"]:
        box.warning(f"Planting failed: task accuracy and planted IIA must both be >= "
                    f"{PLANT_THRESHOLD}.")
    box.dataframe(table[COLUMNS], hide_index=True, key="plant_table")
    entry = state.find_model(cfg)
    in_use = entry is not None and entry.source == f"{state.PLANTED} {name}"
    box.button("In use: the pages show it" if in_use else "Use this planted network",
               key="plant_use_button", disabled=in_use, on_click=_use, args=(key, name, load),
               help="makes this planted network the session's model, as an uploaded "
                    "checkpoint is: the settings are set to its config and every page shows it")


def _shipped_ui(box, cfg: RunConfig, key: str, rows: pd.DataFrame, path: Path) -> None:
    first = rows.iloc[0]
    box.caption(f"Shipped: recovered by `{planted_grid.COMMAND}` at the plant command's "
                "defaults (pretrained/planted/planted.csv).")
    report = {"task_accuracy": first.task_accuracy, "planted_iia": first.planted_iia,
              "failed": bool(first.plant_failed)}
    if not path.exists():
        box.dataframe(rows[COLUMNS], hide_index=True, key="plant_table")
        box.caption(f"Its checkpoint ({path.name}) is not in pretrained/planted/models/.")
        return
    report_ui(box, cfg, key, report, rows, path.name, path.read_bytes)


def _planted_name(cfg: RunConfig, form: str, site: int, k: int) -> str:
    m = cfg.model
    return (f"{m.activation}-w{m.width}-l{m.layers}-{form}-site{site}-k{k}-s{cfg.seed}"
            ".safetensors")


def planted_ui(cfg: RunConfig, bar) -> None:
    """Sidebar: plant V1 and V2 (IIT) at a site in k dims each, then every method's recovery;
    the shipped grid's at once; either can become the session's model."""
    from explorer.runs.planting import planted_bytes

    note = st.session_state.get(PLANT_NOTE)
    box = bar.expander("Planted network (known answer)", expanded=note is not None)
    form = widgets.view_ui(box.selectbox, PLANT_FORM, "Form", FORMS,
                           help="rotated: a random k-dim rotated subspace; localist: chosen units")
    site = widgets.view_ui(box.slider, PLANT_SITE, "Planted site", min_value=1,
                           max_value=cfg.model.layers) if cfg.model.layers > 1 else 1
    half = cfg.model.width // 2  # a slider needs two values: none at width 2 or 3
    k = widgets.view_ui(box.slider, PLANT_K, "Planted k", min_value=1,
                        max_value=half) if half > 1 else 1
    key = plant_key(cfg, form, site, k)
    shipped = grid_rows(cfg, form, site, k)
    if shipped is not None:
        _shipped_ui(box, cfg, key, *shipped)
    else:
        with box:
            result = dial.button_job(key, cfg, "Plant and recover", "Planting and recovery",
                                     lambda: planter(cfg, form, site, k), "plant_button")
        if result is not None:
            report = {"task_accuracy": result.task_accuracy, "failed": result.plant_failed,
                      "planted_iia": None if result.planted is None else result.planted.iia}
            report_ui(box, cfg, key, report, recovery_table(result),
                      _planted_name(result.config, form, site, k),
                      lambda: planted_bytes(result))
    if note is not None and note[0] == key:
        (box.error if note[1] == "error" else box.success)(note[2])


__all__ = ["planted_ui"]
