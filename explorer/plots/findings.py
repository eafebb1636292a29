"""Altair chart builders for the Findings page: a long-form DataFrame in, a Chart out.

No Streamlit and no math beyond the aggregation a chart displays (mean across seeds, with
the min-max range as a rule): the frames come from `explorer.study.findings` and the study CSVs.
Every chart asks to be drawn as SVG, like `explorer.plots.charts`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explorer.plots.charts import FLAT_LABELS, SVG, UNIT_SCALE

ACTIVATION_ORDER = ["relu", "sigmoid", "tanh", "gelu", "leaky_relu"]
ACTIVATION_COLORS = dict(zip(ACTIVATION_ORDER,
                             ["#2a6f97", "#e07a5f", "#81b29a", "#9c6ade", "#f2cc8f"]))
HEIGHT = 190  # px of one panel
# px the panels of one facet row may take together, gaps included: the main column of a
# 1280 px window with the sidebar open (~820 px) less the y axis; legends go below the panels
ROW_WIDTH = 700


def _panels(n: int, most: int = 200) -> dict:
    """Width and height of each of n panels in a row, so that the row fits ROW_WIDTH."""
    return {"width": min(most, (ROW_WIDTH - 20 * (n - 1)) // max(n, 1)), "height": HEIGHT}


def _order(values: pd.Series, order: list[str] | None = None) -> list:
    seen = list(dict.fromkeys(values))
    return [v for v in order if v in seen] + [v for v in seen if v not in order] if order else seen


def _activation(frame: pd.DataFrame) -> alt.Color:
    """A fixed color per activation; the legend lists only those in the frame."""
    present = _order(frame.activation, ACTIVATION_ORDER)
    scale = alt.Scale(domain=present, range=[ACTIVATION_COLORS.get(a, "gray") for a in present])
    return alt.Color("activation:N", title="activation", scale=scale, sort=present,
                     legend=alt.Legend(symbolOpacity=1))  # not a faint band's swatch


def _chance() -> alt.Chart:
    """A dashed rule at chance (0.5) that inherits the layer's data: one rule per panel."""
    return alt.Chart().transform_aggregate(n="count()").mark_rule(
        strokeDash=[4, 4], color="gray").encode(y=alt.datum(0.5))


def _svg(chart):
    """Drawn as SVG, its legend below the panels (beside them it would widen the row)."""
    return chart.configure_legend(orient="bottom").properties(usermeta=SVG)


def iia_vs_k(frame: pd.DataFrame) -> alt.FacetChart:
    """frame: activation, site, k, seed, iia (DAS, one row per seed). Mean across seeds as a
    line, the seeds' min-max as a band, one panel per site."""
    base = alt.Chart().encode(x=alt.X("k:O", title="k (dims per variable)", axis=FLAT_LABELS),
                              color=_activation(frame))
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("min(iia):Q", title="DAS IIA (test pairs)", scale=UNIT_SCALE), y2="max(iia):Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean(iia):Q", scale=UNIT_SCALE),
        tooltip=["activation:N", "k:O", alt.Tooltip("mean(iia):Q", format=".3f"),
                 alt.Tooltip("min(iia):Q", format=".3f"), alt.Tooltip("max(iia):Q", format=".3f")])
    layered = alt.layer(band, line, _chance(), data=frame).properties(
        **_panels(frame.site.nunique()))
    return _svg(layered.facet(column=alt.Column("site:O", title="site (0 = input)")))


def _mean_range(frame: pd.DataFrame, x: str, y: str, y_title: str, x_title: str,
                x_order: list | None = None, scale=UNIT_SCALE) -> alt.LayerChart:
    """Per x and activation: a tick at the mean, a rule from min to max, the seeds as dots."""
    sort = _order(frame[x], x_order)
    base = alt.Chart().encode(
        x=alt.X(f"{x}:N", title=x_title, sort=sort,
                axis=alt.Axis(labelAngle=-35, labelLimit=170, labelOverlap=False)),
        xOffset=alt.XOffset("activation:N", sort=_order(frame.activation, ACTIVATION_ORDER)),
        color=_activation(frame))
    rule = base.mark_rule(strokeWidth=2).encode(
        y=alt.Y(f"min({y}):Q", title=y_title, scale=scale), y2=f"max({y}):Q")
    mean = base.mark_tick(thickness=3, size=14).encode(
        y=alt.Y(f"mean({y}):Q", scale=scale),
        tooltip=[f"{x}:N", "activation:N", alt.Tooltip(f"mean({y}):Q", format=".3f"),
                 alt.Tooltip(f"min({y}):Q", format=".3f"),
                 alt.Tooltip(f"max({y}):Q", format=".3f")])
    dots = base.mark_circle(size=16, opacity=0.45).encode(y=alt.Y(f"{y}:Q", scale=scale))
    return alt.layer(rule, mean, dots, data=frame)


def method_comparison(frame: pd.DataFrame, methods: list[str] | None = None) -> alt.FacetChart:
    """frame: activation, site, seed, method, score (IIA; probes: held-out accuracy)."""
    chart = _mean_range(frame, "method", "score", "score (IIA; probe: accuracy)", None,
                        methods).properties(**_panels(2, 380))  # 7 labelled methods, 2 a row
    return _svg(chart.facet(facet=alt.Facet("site:O", title="site (0 = input)"), columns=2))


def map_comparison(frame: pd.DataFrame) -> alt.FacetChart:
    """frame (maps.csv): activation, seed, site, map, iia."""
    chart = _mean_range(frame, "map", "iia", "IIA (test pairs)", "map",
                        ["orthogonal", "linear", "boundless"]).properties(
        **_panels(frame.site.nunique()))
    return _svg(chart.facet(column=alt.Column("site:O", title="site (0 = input)")))


def boundless_sizes(frame: pd.DataFrame) -> alt.FacetChart:
    """frame: activation, seed, site, variable, size (Boundless DAS learned dims)."""
    chart = _mean_range(frame, "variable", "size", "learned dims (Boundless DAS)", "variable",
                        scale=alt.Scale(domain=[0, 8], nice=False)).properties(
        **_panels(frame.site.nunique()))
    return _svg(chart.facet(column=alt.Column("site:O", title="site (0 = input)")))


def search_success(frame: pd.DataFrame) -> alt.FacetChart:
    """frame (search.csv): activation, site, k, init, success (one row per restart x lr x
    seed). Bars: the fraction of restarts that succeed."""
    bars = alt.Chart(frame).mark_bar().encode(
        x=alt.X("init:N", title="restart starts at", sort=_order(frame.init), axis=FLAT_LABELS),
        xOffset=alt.XOffset("activation:N", sort=_order(frame.activation, ACTIVATION_ORDER)),
        y=alt.Y("mean(success):Q", title="fraction of restarts that succeed", scale=UNIT_SCALE),
        color=_activation(frame),
        tooltip=["activation:N", "init:N", "k:O", alt.Tooltip("mean(success):Q", format=".2f"),
                 alt.Tooltip("count():Q", title="restarts")]).properties(width=170, height=170)
    return _svg(bars.facet(column=alt.Column("k:O", title="k"),
                           row=alt.Row("site:O", title="site (0 = input)")))


def restart_iia(frame: pd.DataFrame) -> alt.FacetChart:
    """frame (search.csv): activation, site, k, init, test_iia, target. Every restart as a
    dot; the target (input oracle or best found) minus tolerance is what success means."""
    dots = alt.Chart().mark_circle(size=22, opacity=0.5).encode(
        x=alt.X("init:N", title="restart starts at", sort=_order(frame.init), axis=FLAT_LABELS),
        xOffset=alt.XOffset("activation:N", sort=_order(frame.activation, ACTIVATION_ORDER)),
        y=alt.Y("test_iia:Q", title="test IIA per restart", scale=UNIT_SCALE),
        color=_activation(frame), tooltip=["activation:N", "seed:O", "lr:Q", "restart:O",
                                           alt.Tooltip("test_iia:Q", format=".3f")])
    target = alt.Chart().mark_rule(color="black", strokeDash=[2, 2]).encode(
        y=alt.Y("mean(target):Q"))
    chart = alt.layer(dots, target, data=frame).properties(width=170, height=170)
    return _svg(chart.facet(column=alt.Column("k:O", title="k"),
                            row=alt.Row("site:O", title="site (0 = input)")))


def basin(frame: pd.DataFrame) -> alt.LayerChart:
    """frame (basin.csv): activation, seed, draw, degrees, iia. Mean over seeds and draws."""
    base = alt.Chart(title="V1 swap of the exact difference subspace, tilted").encode(
        x=alt.X("degrees:Q", title="tilt away from the exact subspace (degrees)"),
        color=_activation(frame))
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("min(iia):Q", title="IIA (V1-only swaps)", scale=UNIT_SCALE), y2="max(iia):Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean(iia):Q", scale=UNIT_SCALE),
        tooltip=["activation:N", "degrees:Q", alt.Tooltip("mean(iia):Q", format=".3f")])
    return _svg(alt.layer(band, line, _chance(), data=frame).properties(width=420, height=240))


def probes(frame: pd.DataFrame) -> alt.FacetChart:
    """frame (probes.csv): activation, seed, site, variable, labels, network, accuracy."""
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("site:O", title="site (0 = input)", axis=FLAT_LABELS),
        y=alt.Y("mean(accuracy):Q", title="probe accuracy (held out)", scale=UNIT_SCALE),
        color=_activation(frame),
        **_solid_dashed("labels", "true labels", "shuffled labels"),
        tooltip=["activation:N", "site:O", "labels:N", "network:N",
                 alt.Tooltip("mean(accuracy):Q", format=".3f")]).properties(width=200, height=180)
    return _svg(_styles(chart.facet(column=alt.Column("network:N", title="network"),
                                    row=alt.Row("variable:N", title="probe for")),
                        "probe trained on true labels", "on shuffled labels (the control)"))


def angles(frame: pd.DataFrame) -> alt.FacetChart:
    """frame: activation, site, comparison, mean_degrees (one row per pair compared)."""
    chart = _mean_range(frame, "comparison", "mean_degrees", "mean principal angle (degrees)",
                        None, scale=alt.Scale(domain=[0, 90])).properties(
        **_panels(frame.site.nunique()))
    return _svg(chart.facet(column=alt.Column("site:O", title="site (0 = input)")))


def _budget_axis() -> alt.X:
    return alt.X("step:Q", title="DAS steps (budget, log scale)",
                 scale=alt.Scale(type="log", nice=False),
                 axis=alt.Axis(values=[100, 300, 1000, 3000, 10000], format="~s"))


def _setting_facet(frame: pd.DataFrame) -> alt.Column:
    """One panel per map and k, in the frame's order."""
    return alt.Column("setting:N", title="map and k (input, random start, lr 0.01)",
                      sort=_order(frame.setting))


def budget_success(frame: pd.DataFrame) -> alt.FacetChart:
    """frame (`findings.budget_frame`, step > 0): activation, setting, seed, step, success,
    any_success. Solid: the fraction of restarts that succeeded by that budget (mean over
    seeds, band: the seeds' min-max); dashed: the fraction of seeds with a successful
    restart. Budget 0 is left out (log axis)."""
    frame = frame[frame.step > 0]
    base = alt.Chart().encode(x=_budget_axis(), color=_activation(frame))
    band = base.mark_area(opacity=0.15).encode(
        y=alt.Y("min(success):Q", title="success (solid: restarts; dashed: seeds)",
                scale=UNIT_SCALE), y2="max(success):Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean(success):Q", scale=UNIT_SCALE),
        tooltip=["activation:N", "setting:N", "step:Q",
                 alt.Tooltip("mean(success):Q", format=".2f", title="restarts"),
                 alt.Tooltip("mean(any_success):Q", format=".2f", title="seeds")])
    seeds = base.mark_line(strokeDash=[5, 3], opacity=0.8).encode(
        y=alt.Y("mean(any_success):Q", scale=UNIT_SCALE))
    chart = alt.layer(band, line, seeds, data=frame).properties(
        **_panels(frame.setting.nunique(), 210))
    return _svg(chart.facet(column=_setting_facet(frame)))


def budget_iia(frame: pd.DataFrame) -> alt.FacetChart:
    """frame as `budget_success`: best_val_iia (the seed's best restart so far) and target
    (the exact oracle's IIA). Line: mean over seeds, band: min-max; dashed black: the
    oracle; dashed gray: chance."""
    frame = frame[frame.step > 0]
    base = alt.Chart().encode(x=_budget_axis(), color=_activation(frame))
    band = base.mark_area(opacity=0.15).encode(
        y=alt.Y("min(best_val_iia):Q", title="best validation IIA so far",
                scale=alt.Scale(domain=[0.4, 1])), y2="max(best_val_iia):Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y("mean(best_val_iia):Q", scale=alt.Scale(domain=[0.4, 1])),
        tooltip=["activation:N", "setting:N", "step:Q",
                 alt.Tooltip("mean(best_val_iia):Q", format=".3f"),
                 alt.Tooltip("min(best_val_iia):Q", format=".3f"),
                 alt.Tooltip("max(best_val_iia):Q", format=".3f")])
    oracle = alt.Chart().mark_line(color="black", strokeDash=[2, 2]).encode(
        x=_budget_axis(), y=alt.Y("mean(target):Q"))
    chart = alt.layer(band, line, oracle, _chance(), data=frame).properties(
        **_panels(frame.setting.nunique(), 210))
    return _svg(chart.facet(column=_setting_facet(frame)))


def _solid_dashed(field: str, solid: str, dashed: str) -> dict:
    """Encodings for one line per value of `field`: `solid` drawn solid, `dashed` dashed. No
    legend: Vega-Lite draws a line-style legend beside a colour legend as dots (or as
    invisible strokes), so a title line (`_styles`) says which is which."""
    return {"strokeDash": alt.StrokeDash(f"{field}:N", legend=None,
                                         scale=alt.Scale(domain=[solid, dashed],
                                                         range=[[1, 0], [4, 3]])),
            "detail": f"{field}:N"}


def _styles(chart, solid: str, dashed: str):
    """The chart with a title line naming its line styles."""
    return chart.properties(title=alt.TitleParams(
        f"solid: {solid} · dashed: {dashed}", anchor="start", fontSize=12,
        fontWeight="normal"))


def complexity_ladder(frame: pd.DataFrame, order: list[str]) -> alt.FacetChart:
    """frame (`findings.complexity_frame`): activation, network, site, map, iia (median over
    seeds). x: the map, simplest first; solid: the trained networks, dashed: their
    random-features controls; one panel per site."""
    base = alt.Chart().encode(
        x=alt.X("map:N", sort=order, title="alignment map (simplest first)",
                axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("iia:Q", title="IIA, median over seeds (held-out entities)", scale=UNIT_SCALE),
        color=_activation(frame), **_solid_dashed("network", "trained", "control"),
        tooltip=["activation:N", "network:N", "site:O", "map:N",
                 alt.Tooltip("iia:Q", format=".3f"), alt.Tooltip("low:Q", format=".3f"),
                 alt.Tooltip("high:Q", format=".3f")])
    chart = alt.layer(base.mark_line(point=True), _chance(), data=frame).properties(
        **_panels(frame.site.nunique(), 150))
    return _svg(_styles(chart.facet(column=alt.Column("site:O", title="site (0 = input)")),
                        "trained networks", "their random-features controls"))


def planted_recovery(frame: pd.DataFrame) -> alt.FacetChart:
    """frame (`findings.planted_curve`): activation, method, das_steps, criterion, found
    (fraction of networks), iia; one panel per method, x: the DAS step cap (log); solid:
    found by IIA and subspace, dashed: by IIA alone."""
    base = alt.Chart().encode(
        x=alt.X("das_steps:Q", title="DAS steps (cap, log scale)",
                scale=alt.Scale(type="log", nice=False),
                axis=alt.Axis(values=[25, 100, 400, 1600], format="~s")),
        y=alt.Y("found:Q", title="plant found (fraction of nets)", scale=UNIT_SCALE),
        color=_activation(frame),
        **_solid_dashed("criterion", "IIA and subspace", "IIA"),
        tooltip=["activation:N", "method:N", "das_steps:Q", "criterion:N",
                 alt.Tooltip("found:Q", format=".2f"), alt.Tooltip("iia:Q", format=".3f"),
                 alt.Tooltip("used_angle:Q", format=".1f", title="used angle (deg)"), "nets:Q"])
    chart = alt.layer(base.mark_line(point=True), data=frame).properties(
        **_panels(frame.method.nunique(), 150))
    return _svg(_styles(chart.facet(column=alt.Column("method:N", title="method")),
                        "found by IIA and subspace", "by IIA alone"))
