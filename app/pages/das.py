"""DAS page: task accuracy first, then the precomputed results when pretrained/ has this
configuration, then the live run: the learned rotation, its IIA and every control."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import common, params, precomputed, stores as state
from explorer.analysis import geometry as analysis
from explorer.plots import charts as plots
from explorer.core.causal import HYPOTHESES
from explorer.core.config import RunConfig
from explorer.methods.controls import closest_signed_permutation

CONTROL_ROWS = (  # (name, kind, how to read it)
    ("untrained network (same DAS)", "control", "does training matter?"),
    ("random rotation", "control", "is a learned rotation needed?"),
    ("closest signed permutation", "control", "localist (high) or distributed (low)?"),
    ("full-layer patch", "control", "is the alignment variable-specific?"),
)


def render(cfg: RunConfig, entry: state.TrainedModel | None) -> None:
    d, hyp = cfg.site_dim(cfg.das.site), HYPOTHESES[cfg.das.hypothesis]
    st.markdown(f"Learn a rotation of site **{cfg.das.site}** ({d} dims) so that swapping "
                f"its first **{cfg.das.k}** rotated coordinates per variable "
                f"({', '.join(hyp.variables)}) reproduces **{hyp.title}**'s counterfactual "
                f"labels · {cfg.das.map} map · {cfg.das.restarts} restarts · settings in "
                "the sidebar.")
    if not common.require_model(cfg, entry):
        return
    common.accuracy_banner(entry)
    if precomputed.precomputed_ui(cfg, entry):
        st.subheader("Live run")
    run = common.run_alignment_ui(cfg, entry, key="das_button")
    if run is None:
        return
    iia_ui(run)
    st.caption("One model seed is one sample: reruns of the same recipe with other seeds "
               "have given layer-1 DAS IIA anywhere from 0.72 to 0.98. Change the seed in "
               "the sidebar to see the spread before reading much into one number.")
    rotation_ui(cfg, entry, run, hyp.variables)
    controls_ui(run)


def iia_ui(run: state.AlignmentRun) -> None:
    test = run.das.test
    cols = st.columns(4)
    cols[0].metric("DAS IIA (test pairs)", f"{test.iia:.3f}")
    cols[1].metric("on label-changing pairs", f"{test.changed:.3f}")
    cols[2].metric("no-intervention baseline", f"{test.baseline:.3f}")
    cols[3].metric("best restart", run.das.best_restart)
    left, right = st.columns(2)
    with left:
        common.chart(plots.iia_curve(run.das.history))
    with right:
        by_type = pd.DataFrame({"intervention": list(test.by_type),
                                "IIA": list(test.by_type.values())})
        st.dataframe(by_type, hide_index=True, key="das_by_type")
        st.dataframe(run.das.restarts, hide_index=True, key="das_restarts")
        st.caption(f"{test.n} held-out test pairs · computed in {run.seconds:.1f} s")


def rotation_ui(cfg, entry, run: state.AlignmentRun, variables) -> None:
    das = run.das
    st.subheader("The learned map and its closest signed permutation")
    st.caption("Rows are the site's units, columns the rotated coordinates (r = h·R), "
               "grouped by the variable that owns them. If the permutation scores as well "
               "as R (controls below), the alignment is localist.")
    left, right = st.columns(2)
    with left:
        frame = analysis.matrix_frame(das.map, das.var_mask, variables)
        common.chart(plots.rotation_heatmap(frame, "learned R"), stretch=False)
    with right:
        snapped = closest_signed_permutation(das.map)
        frame = analysis.matrix_frame(snapped, das.var_mask, variables)
        common.chart(plots.rotation_heatmap(frame, "closest signed permutation"), stretch=False)
    st.subheader("PCA of the rotated coordinates, per block")
    colour = params.view_ui(st.radio, "das_color", "Colour by", ("V1", "V2", "label", "pattern"),
                            horizontal=True)
    points = common.attempt("Rotated PCA", state.rotated_points, state.run_key(cfg), entry, run,
                            tuple(variables))
    if points is not None:
        common.chart(plots.pca_scatter(points, colour, facet="block"), stretch=False)


def controls_table(run: state.AlignmentRun) -> pd.DataFrame:
    c = run.controls
    values = (c["untrained_das"], c["random_rotation"], c["closest_permutation"],
              c["full_layer"])
    rows = [("DAS (learned rotation)", "alignment", "the result", run.das.test),
            ("best neuron-wise subsets", "alignment", "localist search", run.neuron.test)]
    rows += [(name, kind, note, iia) for (name, kind, note), iia in zip(CONTROL_ROWS, values)]
    table = pd.DataFrame([{"name": n, "kind": k, "iia": v.iia, "label-changing": v.changed,
                           "reads as": note} for n, k, note, v in rows])
    baseline = {"name": "no intervention", "kind": "baseline", "iia": run.das.test.baseline,
                "label-changing": None, "reads as": "what a swap that does nothing scores"}
    return pd.concat([table, pd.DataFrame([baseline])], ignore_index=True)


def controls_ui(run: state.AlignmentRun) -> None:
    st.subheader("Controls")
    table = controls_table(run)
    common.chart(plots.controls_bars(table))
    st.dataframe(table, hide_index=True, key="das_controls")
