"""DAS page: task accuracy first, then the precomputed results when pretrained/ has this
configuration, then the live run: its IIA, what it means in words (not converged, below the
neuron-wise subsets, a vacuous or failed control) with the fix one click away, the learned
map, and every control with what a pass and a fail look like (`core.vocabulary.CONTROLS`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from app import (common, compare, dial, figures, glossary, precomputed, session, spread,
                 stores as state, widgets)
from explorer.analysis import geometry as analysis, readings
from explorer.plots import charts as plots
from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import RunConfig
from explorer.core.vocabulary import CONTROLS, NOT_APPLICABLE, map_noun, map_phrase
from explorer.methods.controls import closest_signed_permutation, verdicts
from explorer.methods.report import BELOW, map_name, notes

MAX_STEPS = next(f.high for f in widgets.SEARCH_BUDGET if f.name == "das_steps")


def render(cfg: RunConfig, entry: state.TrainedModel | None) -> None:
    d, hyp = cfg.site_dim(cfg.das.site), CAUSAL_MODELS[cfg.das.hypothesis]
    st.markdown(f"Learn {map_phrase(cfg.das.map)} of site **{cfg.das.site}** "
                f"({d} dims) so that swapping "
                f"its first **{cfg.das.k}** {coordinates(cfg)} per variable "
                f"({', '.join(hyp.variables)}) reproduces **{hyp.title}**'s counterfactual "
                f"labels · {map_name(cfg)} map · {cfg.das.restarts} restarts · settings in "
                "the sidebar.")
    compare.compare_ui(cfg, entry, "das")
    if not common.require_model(cfg, entry):
        return
    common.accuracy_banner(entry)
    if precomputed.precomputed_ui(cfg, entry):
        st.subheader("Live run")
    run = common.run_alignment_ui(cfg, entry, key="das_button")
    if run is not None:
        run_ui(cfg, entry, run, hyp.variables)
    spread.seeds_ui(cfg)
    dial.complexity_ui(cfg, entry)
    dial.court_ui(cfg, entry)


def coordinates(cfg: RunConfig) -> str:
    """'rotated coordinates' for a rotation; 'mapped coordinates' for any other map."""
    return f"{'rotated' if cfg.das.map == 'orthogonal' else 'mapped'} coordinates"


def run_ui(cfg: RunConfig, entry: state.TrainedModel, run: state.AlignmentRun,
           variables) -> None:
    iia_ui(run)
    readings_ui(cfg, entry, run)
    rotation_ui(cfg, entry, run, variables)
    controls_ui(run, entry.task_accuracy)
    dial.pair_map_ui(cfg, entry, run)


def iia_ui(run: state.AlignmentRun) -> None:
    test = run.das.test
    cols = st.columns(5)
    cols[0].metric("DAS IIA (test pairs)", f"{test.iia:.3f}", help=glossary.IIA)
    cols[1].metric("on label-changing pairs", f"{test.changed:.3f}", help=glossary.CHANGED)
    cols[2].metric("no-intervention baseline", f"{test.baseline:.3f}", help=glossary.BASELINE)
    cols[3].metric("best restart", run.das.best_restart, help=glossary.RESTARTS)
    cols[4].metric("DAS steps used", f"{run.das.steps_used}",  # the value alone: it fits
                   "converged" if run.das.converged else "not converged",
                   delta_color="off" if run.das.converged else "inverse", delta_arrow="off")
    left, right = st.columns(2)
    with left:
        figures.show(plots.iia_curve, run.das.history)
    with right:
        by_type = pd.DataFrame({"intervention": list(test.by_type),
                                "IIA": list(test.by_type.values())})
        st.dataframe(by_type, hide_index=True, key="das_by_type")
        st.dataframe(run.das.restarts, hide_index=True, key="das_restarts")
        st.caption(f"{test.n} held-out test pairs · computed in {run.seconds:.1f} s")


def rotation_ui(cfg, entry, run: state.AlignmentRun, variables) -> None:
    das = run.das
    if not isinstance(das.map, torch.Tensor):
        st.subheader("The learned map")
        st.info(f"A RevNet map (h = {cfg.das.map_width}, non-linear): the matrix heatmap, "
                f"the closest signed permutation snap and the rotated PCA are "
                f"{NOT_APPLICABLE}. Its tensors are on the Share page.")
        return
    st.subheader("The learned map and its closest signed permutation")
    st.caption(f"Rows are the site's units, columns the {coordinates(cfg)} (r = h·R), "
               "grouped by the variable that owns them. If the permutation scores as well "
               "as R (controls below), the alignment is localist.")
    left, right = st.columns(2)
    with left:
        frame = analysis.matrix_frame(das.map, das.var_mask, variables)
        figures.show(plots.rotation_heatmap, frame, f"learned {map_noun(cfg.das.map)} R",
                     stretch=False)
    with right:
        snapped = closest_signed_permutation(das.map)
        frame = analysis.matrix_frame(snapped, das.var_mask, variables)
        figures.show(plots.rotation_heatmap, frame, "closest signed permutation", stretch=False)
    st.subheader(f"PCA of the {coordinates(cfg)}, per block")
    colour = widgets.view_ui(st.radio, session.DAS_COLOR, "Colour by", ("V1", "V2", "label", "pattern"),
                            horizontal=True)
    points = common.attempt("Rotated PCA", state.rotated_points, entry, run, tuple(variables))
    if points is not None:
        figures.show(plots.pca_scatter, points, colour, facet="block", stretch=False)


def readings_ui(cfg: RunConfig, entry: state.TrainedModel, run: state.AlignmentRun) -> None:
    """What the numbers mean, in words, with the fix offered as a button where there is one."""
    st.markdown(readings.das_reading(run.das.test.iia, run.neuron.test.iia,
                                     run.das.test.baseline, BELOW,
                                     run.controls.columns().get("random_features_das_iia")))
    found = notes(cfg, run.das, run.neuron, run.controls, entry.task_accuracy)
    for note in found:
        st.warning(note)
    fixes = []
    if not run.das.converged and cfg.das.das_steps < MAX_STEPS:
        steps = min(2 * cfg.das.das_steps, MAX_STEPS)
        fixes.append((f"Give DAS {steps} steps", {"das_steps": steps}))
    if run.das.test.iia < run.neuron.test.iia - BELOW and cfg.das.das_init != "neuron":
        fixes.append(("Start restart 0 at the neuron-wise answer", {"das_init": "neuron"}))
    for i, (label, values) in enumerate(fixes):
        st.button(label, key=f"das_fix_{i}", on_click=_apply, args=(values,),
                  help="sets the sidebar's Search budget (DAS steps, Restart 0 starts at); "
                       "then press Run DAS")
    if found and not fixes:
        st.caption("Settings that change these readings: **Search budget** in the sidebar "
                   "(DAS steps, patience, Restart 0 starts at, pairs).")


def _apply(values: dict) -> None:
    """Set widget values before the next run draws them (a button callback may)."""
    st.session_state.update(values)


def controls_table(run: state.AlignmentRun, task_accuracy: float) -> pd.DataFrame:
    """One row per alignment, control (`core.vocabulary.CONTROLS`) and the baseline: its
    score, verdict, question, and what a pass and a fail look like."""
    das, c = run.das.test, run.controls
    columns, verdict = c.columns(), verdicts(c, das.iia, task_accuracy)
    noun = map_noun(run.config.das.map) if run.config.das.map == "orthogonal" \
        else map_name(run.config)
    rows = [(f"DAS (learned {noun})", "alignment", das.iia, das.changed, "", "the result",
             "", ""),
            ("best neuron-wise subsets", "alignment", run.neuron.test.iia,
             run.neuron.test.changed,
             "" if das.iia >= run.neuron.test.iia - BELOW else "DAS below: a search miss",
             "neuron-wise search (a permutation DAS could learn)", "", "")]
    for ctl in CONTROLS:
        report = c.iia_of(ctl.key)
        details = ", ".join(f"{name} {columns[name]:.3f}" for name in ctl.details)
        rows.append((ctl.label, "control", columns[ctl.column],
                     None if report is None else report.changed,
                     (f"n/a: {NOT_APPLICABLE}" if verdict[ctl.key] == "n/a"
                      and columns[ctl.column] != columns[ctl.column] else verdict[ctl.key])
                     + (f" ({details})" if details else ""), ctl.question,
                     ctl.passes, ctl.fails))
    rows.append(("no intervention", "baseline", das.baseline, None, "",
                 "what a swap that does nothing scores", "", ""))
    return pd.DataFrame(rows, columns=["name", "kind", "iia", "label-changing", "verdict",
                                       "asks", "pass looks like", "fail looks like"])


def controls_ui(run: state.AlignmentRun, task_accuracy: float) -> None:
    st.subheader("Controls")
    st.caption("Each control can fail: its row says what a pass and a fail look like, and "
               "its verdict here. *Vacuous* means it could not have failed on this network.")
    table = controls_table(run, task_accuracy)
    figures.show(plots.controls_bars, table)
    st.dataframe(table, hide_index=True, key="das_controls")
