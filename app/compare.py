"""Pin & compare: keep one configuration (and its model and alignment run, if any) and show
it beside the current one on the same metrics and charts (DAS page: the metrics, the IIA
per site and both learned maps as heatmaps; Neuron-wise page: its IIA, per site too; Train
page: the accuracies).

The pin is a flat config (`session.PIN`), and rides in the link as `?pin=` (`app.params`),
so a shared link reopens the comparison. Each side's numbers come from the shipped table
when pretrained/results.csv has that configuration (no run needed), else from the alignment
run this session holds for it, else they are missing and the page says what would give them.
The model and run present when the pin was made are kept with it (`session.PIN_HELD`), so the
store evicting them later does not lose the pinned side.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
import torch

from app import figures, precomputed as shown, session, stores as state
from app.session import PIN, PIN_HELD
from explorer.analysis import geometry as analysis, readings
from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import RunConfig
from explorer.plots import charts as plots
from explorer.store import precomputed, shipped

MEASURES = ("task accuracy", "DAS IIA", "DAS IIA, label-changing", "neuron-wise IIA",
            "no-intervention baseline")
SIDES = ("pinned", "current")


@dataclass(frozen=True)
class Side:
    """One configuration of the comparison and what the app has for it."""

    name: str  # "pinned" or "current"
    cfg: RunConfig
    entry: state.TrainedModel | None
    run: state.AlignmentRun | None

    @property
    def shipped(self) -> bool:
        """Whether the shipped table describes its model (not for an uploaded one)."""
        return self.entry is None or not self.entry.origin

    @property
    def rows(self) -> pd.DataFrame:
        """Its precomputed rows (das, then neuron; empty off the grid)."""
        rows = precomputed.results_for(self.cfg)
        return rows if self.shipped else rows.iloc[0:0]


def numbers(side: Side) -> tuple[dict[str, float | None], str]:
    """measure -> value (None when unknown), and where they come from."""
    rows, found = side.rows, dict.fromkeys(MEASURES)
    if side.entry is not None:
        found["task accuracy"] = side.entry.task_accuracy
    das, neuron = rows[rows.method == "das"], rows[rows.method == "neuron"]
    if len(das):
        d = das.iloc[0]
        found |= {"task accuracy": float(d.task_accuracy), "DAS IIA": float(d.iia),
                  "DAS IIA, label-changing": float(d.iia_label_changed),
                  "no-intervention baseline": float(d.no_intervention_baseline)}
        if len(neuron):
            found["neuron-wise IIA"] = float(neuron.iloc[0].iia)
        return found, shown.SOURCE
    if side.run is not None:
        test = side.run.das.test
        found |= {"DAS IIA": test.iia, "DAS IIA, label-changing": test.changed,
                  "neuron-wise IIA": side.run.neuron.test.iia,
                  "no-intervention baseline": test.baseline}
        return found, "live run in this session"
    searched = state.find_neuron(side.cfg) if side.entry is not None else None
    if searched is not None:  # a neuron-wise search alone (the Neuron-wise page's run)
        found["neuron-wise IIA"] = searched.test.iia
        return found, "neuron-wise search in this session"
    if side.entry is not None:
        return found, f"model only ({side.entry.source}): press **Run DAS** for its IIA"
    return found, "not trained in this session and not precomputed"


def differences(pinned: dict, current: dict) -> str:
    """'**activation**: pinned relu → current sigmoid · ...' for the fields that differ."""
    return " · ".join(f"**{name}**: pinned {pinned[name]} → current {current[name]}"
                      for name in current if pinned.get(name) != current[name])


def pinned_side() -> Side | None:
    """The pinned configuration with its model and run (kept with the pin, else looked up)."""
    flat = session.pinned()
    if flat is None:
        return None
    cfg, held = RunConfig.from_flat(flat), st.session_state.get(PIN_HELD)
    entry, run = held[1:] if held and held[0] == flat else (None, None)
    return Side("pinned", cfg, entry or state.find_model(cfg), run or state.find_alignment(cfg))


def _pin(cfg: RunConfig) -> None:
    st.session_state[PIN] = cfg.to_flat()
    st.session_state[PIN_HELD] = (cfg.to_flat(), state.find_model(cfg), state.find_alignment(cfg))


def _unpin() -> None:
    st.session_state[PIN], st.session_state[PIN_HELD] = None, None


def pin_ui(cfg: RunConfig, error) -> None:
    """The sidebar's Pin / Unpin control."""
    bar, flat = st.sidebar, session.pinned()
    bar.header("Compare")
    if flat is not None:
        diff = differences(flat, cfg.to_flat())
        bar.caption(f"Pinned: {diff}" if diff else "Pinned: this configuration. Change a "
                    "setting to compare it with the pinned one (DAS, Neuron-wise and Train pages).")
        bar.button("Unpin", key="unpin_button", on_click=_unpin, width="stretch")
    bar.button("Pin this configuration" if flat is None else "Pin this one instead",
               key="pin_button", on_click=_pin, args=(cfg,), width="stretch",
               disabled=error is not None or flat == cfg.to_flat(),
               help="keep this configuration and its results; the DAS, Neuron-wise and Train pages then "
                    "show it beside whatever you change to, and the link carries it")


PAGE_MEASURES = {"train": MEASURES[:1], "neuron": (MEASURES[0], MEASURES[3]), "das": MEASURES}


def compare_ui(cfg: RunConfig, entry: state.TrainedModel | None, page: str) -> None:
    """On the DAS, Neuron-wise ("neuron") or Train page: pinned vs current, when a pin is
    set: that page's measures and charts."""
    pinned = pinned_side()
    if pinned is None:
        return
    current = Side("current", cfg, entry, state.find_alignment(cfg) if entry else None)
    box = st.container(border=True)
    diff = differences(pinned.cfg.to_flat(), cfg.to_flat())
    if not diff:
        box.caption("A configuration is pinned: this one. Change a setting in the sidebar to "
                    "see the two side by side.")
        return
    box.markdown(f"**Pinned vs current.** {diff}")
    metrics_ui(box, pinned, current, PAGE_MEASURES[page])
    with box:
        if page == "train":
            accuracy_chart_ui(pinned, current)
        elif page == "neuron":
            site_chart_ui(pinned, current, "neuron")
        else:
            scores_chart_ui(pinned, current)
            site_chart_ui(pinned, current)
            maps_ui(pinned, current)


def metrics_ui(box, pinned: Side, current: Side, measures: tuple[str, ...]) -> None:
    """One row per side under one row of measure names (captions wrap where a metric's label
    would be cut at 1280 px); the current side's delta is its difference from the pinned one.
    Each metric keeps its full label, '<measure> · <side>', collapsed."""
    (mine, source), (theirs, their_source) = numbers(pinned), numbers(current)
    for col, name in zip(box.columns(len(measures)), measures):
        col.caption(f"**{name}**")
    for side, values, where in ((pinned, mine, source), (current, theirs, their_source)):
        box.caption(f"**{side.name}** · {where}")
        for col, name in zip(box.columns(len(measures)), measures):
            value, base = values[name], mine[name]
            delta = (_delta(value, base) if side is current and value is not None
                     and base is not None else None)
            flat = delta is not None and delta.startswith("same")
            col.metric(f"{name} · {side.name}", "—" if value is None else f"{value:.3f}",
                       delta, delta_color="off" if flat or name == "no-intervention baseline"
                       else "normal", delta_arrow="off" if flat else "auto",
                       label_visibility="collapsed")


def _delta(value: float, base: float) -> str:
    """'+0.012 vs pinned', or 'same as pinned' where it rounds to 0 (never '-0.000')."""
    diff = round(value - base, 3)
    return "same as pinned" if diff == 0 else f"{diff:+.3f} vs pinned"


def scores_chart_ui(pinned: Side, current: Side) -> None:
    rows = [(name, side.name, value) for side in (pinned, current)
            for name, value in numbers(side)[0].items() if value is not None]
    frame = pd.DataFrame(rows, columns=["measure", "configuration", "value"])
    if frame.configuration.nunique() == 2:
        figures.show(plots.paired_bars, frame, "Pinned vs current (held-out test pairs)",
                     stretch=False)
        reading = readings.compare_reading(frame, min(pinned.cfg.das.n_test_pairs,
                                                      current.cfg.das.n_test_pairs))
        if reading:
            st.markdown(reading)


def site_chart_ui(pinned: Side, current: Side, method: str = "das") -> None:
    """DAS (or neuron-wise) IIA at every site for both configurations, from the shipped
    table."""
    frames = []
    for side in (pinned, current):
        profile = precomputed.site_profile(side.cfg) if side.shipped else None
        if profile is not None and (profile.method == method).any():
            frames.append(profile[profile.method == method].assign(method=side.name))
    if not frames:
        return
    frame = pd.concat(frames)[["site", "method", "iia"]]
    name = "DAS" if method == "das" else "Neuron-wise"
    figures.show(plots.site_profile_bars, frame,
                 f"{name} IIA per site, pinned vs current (precomputed)")
    if len(frames) < 2:
        st.caption("Only one of the two configurations is on the shipped grid at every site.")


def learned_map(side: Side) -> tuple[torch.Tensor, torch.Tensor, str] | None:
    """(R, block mask, where from) of a side's DAS map: its live run's matrix, else the
    shipped rotation of its configuration; None for a RevNet map or when there is neither."""
    if side.run is not None:
        das = side.run.das
        return (das.map, das.var_mask, "live run") if torch.is_tensor(das.map) else None
    stored = shipped.rotation_for(side.cfg) if side.shipped else None
    return None if stored is None else (*stored, "shipped")


def maps_ui(pinned: Side, current: Side) -> None:
    """The two learned maps as heatmaps, side by side (same colour scale, same layout)."""
    found = {side.name: (side, learned_map(side)) for side in (pinned, current)}
    if all(m is None for _, m in found.values()):
        return
    for col, (name, (side, m)) in zip(st.columns(2), found.items()):
        if m is None:
            col.caption(f"{name}: no learned matrix to show (not precomputed and not run "
                        "here, or a non-linear map)")
            continue
        variables = CAUSAL_MODELS[side.cfg.das.hypothesis].variables
        frame = analysis.matrix_frame(m[0], m[1], variables)
        figures.show(plots.rotation_heatmap, frame, f"{name}: learned R ({m[2]})",
                     stretch=False, container=col)


def accuracy_chart_ui(pinned: Side, current: Side) -> None:
    """Held-out accuracy by input pattern for both models (where both are loaded)."""
    if pinned.entry is None or current.entry is None:
        return
    frame = pd.concat([side.entry.accuracy.assign(configuration=side.name)
                       for side in (pinned, current)])
    frame = frame.rename(columns={"pattern": "measure", "accuracy": "value"})
    figures.show(plots.paired_bars, frame[["measure", "configuration", "value"]],
                 "Held-out accuracy by input pattern, pinned vs current", "pattern",
                 stretch=False)
