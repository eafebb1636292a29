"""Swap interventions page: one base and its sources, the swap's effect per alignment, and
the outcomes on all held-out pairs. Each part is a fragment: a new draw or the filter redraws
only its own part. A drawn pair is, by default, one whose label the swap changes. On the
shipped grid (every site, k and hypothesis in pretrained/) the page needs no run: it swaps
with the shipped run's stored rotation and neuron-wise subsets."""

from __future__ import annotations

import json
from functools import partial

import pandas as pd
import streamlit as st

from app import common, figures, params, session, stores as state, widgets
from explorer.plots import charts as plots
from explorer.analysis import readings, swaps
from explorer.core.config import RunConfig
from explorer.core.pairs import pair_set
from explorer.core.task import INTERVENTION_TYPES, PATTERNS
from explorer.methods.search import units_mask
from explorer.store import precomputed, shipped

RANDOM = "random"


def render(cfg: RunConfig, entry: state.TrainedModel | None) -> None:
    st.markdown("Draw a **base** input and one **source** per variable; swap the aligned part "
                f"of site {cfg.das.site}'s state from each source into the base, finish the "
                "forward pass, and compare with the high-level model's **counterfactual "
                "label**.")
    if not common.require_model(cfg, entry):
        return
    common.accuracy_banner(entry)
    run = common.run_alignment_ui(cfg, entry, key="swap_das_button",
                                  label="Run DAS and neuron-wise search")
    if run is not None:
        n_vars, d = run.test.source_h.shape[1:]
        aligns = swaps.alignments(run.das, run.neuron, n_vars, d)
        outcomes = partial(common.attempt, "Swap outcomes", state.test_outcomes, entry, run)
    else:
        aligns = stored_alignments(cfg, entry)
        if aligns is None:
            return
        st.caption(STORED_NOTE)
        outcomes = partial(common.attempt, "Swap outcomes", stored_outcomes, cfg, entry, aligns)
    one_pair_ui(cfg, entry, aligns)
    aggregate_ui(cfg, outcomes)


STORED_NOTE = ("Instant, from the shipped run of this configuration: its DAS rotation "
               "(pretrained/rotations.safetensors) and its neuron-wise subsets "
               "(pretrained/results.csv), on the same held-out pairs. **Run DAS and "
               "neuron-wise search** recomputes them, with every control.")


def stored_alignments(cfg: RunConfig, entry: state.TrainedModel) -> list | None:
    """The shipped run's alignments for cfg, or None: only for the recipe's own weights
    (shipped, or trained here: training is deterministic; an upload has other weights) and
    the orthogonal map, where a rotation is stored (every shipped DAS point)."""
    if entry.origin or cfg.das.map != "orthogonal":
        return None
    stored, subsets = shipped.rotation_for(cfg), precomputed.neuron_subsets(cfg)
    if stored is None or subsets is None:
        return None
    rotation, das_mask = stored
    n_vars, d = das_mask.shape
    return swaps.compared((das_mask, rotation, rotation.T), units_mask(subsets, d), n_vars,
                          d)


def stored_outcomes(cfg: RunConfig, entry: state.TrainedModel, aligns: list) -> pd.DataFrame:
    return _stored_outcomes(json.dumps(cfg.to_flat(), sort_keys=True), state.model_id(entry),
                            entry, cfg, aligns)


@st.cache_data(max_entries=16, show_spinner=False)
def _stored_outcomes(key: str, model: tuple, _entry, _cfg: RunConfig,
                     _aligns: list) -> pd.DataFrame:
    """Per-pair outcomes of the stored alignments on cfg's held-out test pairs (the pairs a
    run of cfg scores): once per config and model."""
    return swaps.swap_outcomes(_entry.model, pair_set(_entry.model, _cfg).test, _aligns)


@st.fragment
def one_pair_ui(cfg, entry, aligns) -> None:
    """The draw widgets and the drawn pair: a fragment, so a new draw redraws only this."""
    pairs = swaps.draw_pairs(cfg, 1, *draw_ui(aligns[-1].var_mask.shape[0]))
    pair_ui(cfg, entry, aligns, pairs)
    params.sync_url(cfg)  # a fragment rerun does not reach main()'s sync


def _next_draw() -> None:
    st.session_state[session.SWAP_DRAW] = st.session_state.get(session.SWAP_DRAW, 0) + 1


def draw_ui(n_vars: int) -> tuple:
    """Widgets choosing the pair: (draw, base pattern, source pattern, intervention type,
    label-changing only)."""
    types = INTERVENTION_TYPES[n_vars]
    flips = widgets.view_ui(st.checkbox, session.SWAP_FLIPS, "A pair whose label the swap changes",
                           help="Only pairs whose counterfactual label differs from the base "
                                "label: on the others a swap that does nothing also matches.")
    cols = st.columns([1, 1, 1, 1, 0.7])
    base = widgets.view_ui(cols[0].selectbox, session.SWAP_BASE, "Base pattern", (RANDOM, *PATTERNS))
    source = widgets.view_ui(cols[1].selectbox, session.SWAP_SOURCE, "Source pattern",
                            (RANDOM, *PATTERNS))
    kind = widgets.view_ui(cols[2].selectbox, session.SWAP_TYPE, "Intervene on", (RANDOM, *types))
    draw = widgets.view_ui(cols[3].number_input, session.SWAP_DRAW, "Draw #", min_value=0,
                          max_value=1_000_000, step=1)
    cols[4].button("Draw another", key="swap_next", on_click=_next_draw)
    none_if_random = lambda v: None if v == RANDOM else v  # noqa: E731
    return (int(draw), none_if_random(base), none_if_random(source), none_if_random(kind),
            bool(flips))


def pair_ui(cfg, entry, aligns, pairs) -> None:
    table = swaps.pair_table(pairs, 0, cfg.das.hypothesis)
    _, vectors = swaps.entity_names(pairs, 0)
    st.subheader("The pair")
    st.dataframe(_as_text(table), hide_index=True, key="swap_pair")
    with st.expander("Entity vectors (equal names = equal vectors)"):
        st.dataframe(pd.DataFrame(vectors).T.round(3), key="swap_vectors")
    data = swaps.site_pairs(entry.model, cfg, pairs)
    outcomes = swaps.swap_outcomes(entry.model, data, aligns)
    expected, base_pred = bool(data.counterfactual_label[0]), bool(data.base_pred[0])
    if expected == bool(data.base_label[0]):
        st.caption("This swap leaves the label as it was: a swap that does nothing also "
                   "matches here (no-intervention row). Tick **A pair whose label the swap "
                   "changes** for a pair that tells the alignments apart.")
    cols = st.columns(3)
    cols[0].metric("Network on the base", str(base_pred))
    cols[1].metric("Expected counterfactual label", str(expected))
    cols[2].metric("Swaps that match", f"{int(outcomes.correct.sum())} / {len(outcomes)}")
    shown = outcomes[["method", "base_prediction", "prediction", "counterfactual_label",
                      "correct"]].rename(columns={"prediction": "prediction after swap",
                                                  "counterfactual_label": "expected"})
    st.dataframe(_as_text(shown), hide_index=True, key="swap_outcome_table")


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans as words (checkbox cells are hard to read); 'correct' as a mark."""
    out = frame.copy()
    for name in out.columns[out.dtypes == bool]:
        words = ("✓", "✗") if name == "correct" else ("true", "false")
        out[name] = out[name].map({True: words[0], False: words[1]})
    return out


@st.fragment
def aggregate_ui(cfg, outcomes_of) -> None:
    """`outcomes_of()`: the per-pair outcomes on every held-out test pair (None on failure)."""
    st.subheader("Outcomes on all held-out test pairs")
    changed = widgets.view_ui(st.checkbox, "swap_changed",
                             "Only pairs whose counterfactual label differs from the base label")
    outcomes = outcomes_of()
    if outcomes is None:
        return
    summary = swaps.outcome_summary(outcomes, changed_only=changed)
    figures.show(plots.swap_outcome_bars, summary)
    reading = readings.swap_reading(summary, changed_only=changed)
    if reading:
        st.markdown(reading)
    st.dataframe(summary, hide_index=True, key="swap_summary")
    params.sync_url(cfg)
