"""Altair chart builders: a long-form DataFrame in, a Chart out. No Streamlit, no math.

Every chart asks to be drawn as SVG (`usermeta.embedOptions.renderer`), so its marks are
real elements a browser test can find. Column names follow the frames that
`explorer.core.train`, `explorer.analysis.geometry`, `explorer.methods.das`, `explorer.methods.search` and
`explorer.analysis.swaps` return.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

SVG = {"embedOptions": {"renderer": "svg", "actions": False}}
CHANCE = 0.5
UNIT_SCALE = alt.Scale(domain=[0, 1])
CATEGORIES = alt.Scale(scheme="tableau10")
KINDS = alt.Scale(domain=["alignment", "control", "baseline"],
                  range=["#2a6f97", "#e07a5f", "#9aa5b1"])
PROBE_LABELS = alt.Scale(domain=["true labels", "shuffled labels"], range=["#2a6f97", "#c3ccd6"])
PAIR = alt.Scale(domain=["pinned", "current"], range=["#9c6ade", "#2a6f97"])
# one colour per series wherever it is drawn: a method keeps its colour on every page, and a
# pinned / current pair the colours of the compare panel's bars (PAIR)
SERIES = alt.Scale(domain=["DAS", "neuron-wise search", *PAIR.domain],
                   range=["#4c78a8", "#f58518", *PAIR.range])
FLAT_LABELS = alt.Axis(labelAngle=0)
# Widths in px that charts of fixed size keep within, so nothing is clipped in the narrowest
# layout the app is read in: a 1280 px window with the sidebar open leaves ~820 px of main
# column, ~400 px for one of two columns (st.columns(2)) and ~540 px for the wider of [1, 2].
MAIN_WIDTH, HALF_WIDTH, TWO_THIRDS_WIDTH = 760, 380, 500


def _svg(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return chart.properties(usermeta=SVG)


def _chance_rule(axis: str = "y") -> alt.Chart:
    frame = pd.DataFrame({"chance": [CHANCE]})
    return alt.Chart(frame).mark_rule(strokeDash=[4, 4], color="gray").encode(
        **{axis: alt.X("chance:Q", title=None) if axis == "x" else alt.Y("chance:Q", title=None)})


def loss_curve(history: pd.DataFrame) -> alt.Chart:
    """history: step, loss."""
    return _svg(alt.Chart(history, title="Training loss").mark_line().encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("loss:Q", title="loss (BCE)"),
        tooltip=["step", "loss"]))


def accuracy_curve(history: pd.DataFrame) -> alt.Chart:
    """history: step, train_accuracy."""
    line = alt.Chart(history, title="Training accuracy").mark_line(color="#2a9d8f").encode(
        x=alt.X("step:Q", title="step"),
        y=alt.Y("train_accuracy:Q", title="accuracy", scale=UNIT_SCALE),
        tooltip=["step", "train_accuracy"])
    return _svg(line + _chance_rule())


def pattern_accuracy_bars(accuracy: pd.DataFrame) -> alt.LayerChart:
    """accuracy: pattern ('all' and the four patterns), accuracy, n."""
    base = alt.Chart(accuracy, title="Held-out accuracy by input pattern").encode(
        x=alt.X("pattern:N", sort=list(accuracy.pattern), title="pattern", axis=FLAT_LABELS),
        y=alt.Y("accuracy:Q", scale=UNIT_SCALE), tooltip=["pattern", "accuracy", "n"])
    bars = base.mark_bar(color="#457b9d")
    text = base.mark_text(dy=-6).encode(text=alt.Text("accuracy:Q", format=".3f"))
    return _svg(bars + text + _chance_rule())


def pca_scatter(points: pd.DataFrame, color: str, facet: str = "site",
                columns: int = 5, width: int = MAIN_WIDTH) -> alt.FacetChart:
    """points: pc1, pc2, the `facet` column (site or block) and the `color` column. Panels
    are square and sized so that a row of them and the legend fit in `width` px."""
    per_row = max(1, min(points[facet].nunique(), columns))
    side = int(max(80, min(170, (width - 100) / per_row - 30)))  # legend ~100, axis+gap ~30
    scatter = alt.Chart(points).mark_circle(size=14, opacity=0.6).encode(
        x=alt.X("pc1:Q", title="PC 1", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("pc2:Q", title="PC 2", axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color(f"{color}:N", title=color, scale=CATEGORIES),
        tooltip=[facet, color, "pattern"]).properties(width=side, height=side)
    return _svg(scatter.facet(facet=alt.Facet(f"{facet}:N", title=facet), columns=columns)
                .resolve_scale(x="independent", y="independent"))


def explained_variance_lines(variance: pd.DataFrame) -> alt.Chart:
    """variance: site, component, ratio, cumulative."""
    return _svg(alt.Chart(variance, title="Cumulative explained variance").mark_line(
        point=True).encode(
        x=alt.X("component:O", title="principal component"),
        y=alt.Y("cumulative:Q", title="cumulative ratio", scale=UNIT_SCALE),
        color=alt.Color("site:N", title="site", scale=CATEGORIES),
        tooltip=["site", "component", "ratio", "cumulative"]))


def probe_bars(probes: pd.DataFrame, width: int = TWO_THIRDS_WIDTH) -> alt.FacetChart:
    """probes: site, variable, labels ('true labels' / 'shuffled labels'), accuracy. One
    panel per variable, the legend below them, together within `width` px."""
    panels = max(1, probes.variable.nunique())
    bars = alt.Chart(probes).mark_bar().encode(
        x=alt.X("site:O", title="site", axis=FLAT_LABELS), xOffset="labels:N",
        y=alt.Y("accuracy:Q", title="probe accuracy (held out)", scale=UNIT_SCALE),
        color=alt.Color("labels:N", title="probe trained on", scale=PROBE_LABELS,
                        legend=alt.Legend(orient="bottom")),
        tooltip=["site", "variable", "labels", "accuracy"]).properties(
        width=int(max(120, min(260, (width - 60) / panels - 20))), height=220)
    return _svg(bars.facet(column=alt.Column("variable:N", title="linear probe for")))


def iia_curve(history: pd.DataFrame) -> alt.LayerChart:
    """history: step, restart, val_iia."""
    lines = alt.Chart(history, title="DAS validation IIA").mark_line(point=True).encode(
        x=alt.X("step:Q", title="step"),
        y=alt.Y("val_iia:Q", title="validation IIA", scale=UNIT_SCALE),
        color=alt.Color("restart:N", title="restart", scale=CATEGORIES),
        tooltip=["step", "restart", "val_iia", "loss"])
    return _svg(lines + _chance_rule())


def heatmap_cell(columns: int, width: int, largest: int = 18) -> int:
    """The side in px of a heatmap cell so that `columns` cells fit in `width` px."""
    return int(max(1, min(largest, width // max(columns, 1))))


def rotation_heatmap(matrix: pd.DataFrame, title: str, width: int = HALF_WIDTH) -> alt.HConcatChart:
    """matrix: unit, coordinate, value, block. One panel per block (V1 | V2 | rest) so the
    rotated coordinates each variable owns are marked; rows are the layer's units. Cells
    shrink with the layer so every coordinate fits in `width` px (legend below)."""
    blocks = list(dict.fromkeys(matrix.block))
    units = matrix.unit.nunique()
    cell = heatmap_cell(matrix.coordinate.nunique(), width - 45 - 6 * len(blocks))
    color = alt.Color("value:Q", title="weight",
                      scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True,
                                      clamp=True),
                      legend=alt.Legend(orient="bottom", direction="horizontal"))
    panels = []
    for i, block in enumerate(blocks):
        part = matrix[matrix.block == block]
        few = part.coordinate.nunique() * cell >= 14 * len(str(part.coordinate.max()))
        panels.append(alt.Chart(part, title=block).mark_rect().encode(
            x=alt.X("coordinate:O", title=None, axis=alt.Axis(labels=few, ticks=few)),
            y=alt.Y("unit:O", title="unit" if i == 0 else None,
                    axis=alt.Axis(labels=cell >= 8) if i == 0 else None),
            color=color, tooltip=["unit", "coordinate", "block", "value"],
        ).properties(width=cell * part.coordinate.nunique(), height=cell * units))
    chart = alt.hconcat(*panels, spacing=6, title=alt.Title(title, anchor="start"))
    return _svg(chart.resolve_scale(color="shared"))


def neuron_heatmap(scores: pd.DataFrame, width: int = MAIN_WIDTH) -> alt.FacetChart:
    """scores: site, variable, neuron, iia (single-unit swaps). Cells shrink with the width
    of the layer so every unit fits in `width` px."""
    cell = heatmap_cell(scores.neuron.nunique(), width - 130, largest=24)
    rect = alt.Chart(scores).mark_rect().encode(
        x=alt.X("neuron:O", title="unit", axis=alt.Axis(labels=cell >= 12)),
        y=alt.Y("site:O", title="site"),
        color=alt.Color("iia:Q", title="IIA", scale=alt.Scale(scheme="viridis")),
        tooltip=["site", "variable", "neuron", "iia"]).properties(width=alt.Step(cell),
                                                                  height=alt.Step(24))
    return _svg(rect.facet(row=alt.Row("variable:N", title="swap one unit as")))


def controls_bars(controls: pd.DataFrame) -> alt.LayerChart:
    """controls: name, iia, kind ('alignment' / 'control' / 'baseline')."""
    base = alt.Chart(controls, title="IIA on held-out pairs").encode(
        y=alt.Y("name:N", sort=list(controls.name), title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("iia:Q", title="IIA", scale=UNIT_SCALE), tooltip=["name", "kind", "iia"])
    bars = base.mark_bar().encode(color=alt.Color("kind:N", title=None, scale=KINDS))
    text = base.mark_text(align="left", dx=3).encode(text=alt.Text("iia:Q", format=".3f"))
    return _svg(bars + text + _chance_rule("x"))


def swap_outcome_bars(summary: pd.DataFrame) -> alt.LayerChart:
    """summary: method, type, iia, n."""
    bars = alt.Chart(summary, title="Swap outcomes (IIA) by intervention type").mark_bar().encode(
        x=alt.X("type:N", title="intervention", sort=list(dict.fromkeys(summary.type)),
                axis=FLAT_LABELS),
        xOffset=alt.XOffset("method:N", sort=list(dict.fromkeys(summary.method))),
        y=alt.Y("iia:Q", title="IIA", scale=UNIT_SCALE),
        color=alt.Color("method:N", sort=list(dict.fromkeys(summary.method)), scale=CATEGORIES),
        tooltip=["method", "type", "iia", "n"])
    return _svg(bars + _chance_rule())


def site_profile_bars(profile: pd.DataFrame, title: str) -> alt.LayerChart:
    """profile: site, method ('DAS' / 'neuron-wise search', or 'pinned' / 'current'), iia.
    IIA per site, one bar per method (each in its own colour, SERIES) with its value written
    on it, beside the named chance line; tall enough (with
    title and axes, ~300 px of plot: 15 px per 0.05) to read differences of 0.05."""
    methods = list(dict.fromkeys(profile.method))
    base = alt.Chart(profile, title=title).encode(
        x=alt.X("site:O", title="site (0 = input)", axis=FLAT_LABELS),
        xOffset=alt.XOffset("method:N", sort=methods),
        y=alt.Y("iia:Q", title="IIA", scale=UNIT_SCALE, axis=alt.Axis(tickCount=10)),
        tooltip=["site", "method", alt.Tooltip("iia:Q", format=".3f")])
    bars = base.mark_bar().encode(color=alt.Color("method:N", sort=methods, scale=SERIES,
                                                  title=None))
    values = base.mark_text(dy=-6, fontSize=11).encode(text=alt.Text("iia:Q", format=".2f"))
    chance = pd.DataFrame({"chance": [CHANCE], "label": [f"chance ({CHANCE:g})"]})
    named = alt.Chart(chance).mark_text(align="left", dx=4, color="gray", x="width").encode(
        y="chance:Q", text="label:N")  # just right of the plot, clear of the bars
    return _svg((bars + values + _chance_rule() + named).properties(height=400))


NETWORK_COLOURS = alt.Scale(domain=["trained", "control", "planted"],
                            range=["#2a6f97", "#e07a5f", "#2a9d8f"])


def complexity_lines(sweep: pd.DataFrame, order: list[str], width: int = 170) -> alt.FacetChart:
    """sweep (`analysis.complexity`): network, site, map, iia; one panel per site, x = the
    map in order of complexity, one line per network."""
    base = alt.Chart(sweep).encode(
        x=alt.X("map:N", sort=order, title="alignment map (simplest first)",
                axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("iia:Q", title="IIA (held-out entities)", scale=UNIT_SCALE),
        color=alt.Color("network:N", scale=NETWORK_COLOURS, title="network"),
        tooltip=["network", "site", "map", alt.Tooltip("iia:Q", format=".3f"), "n"])
    chance = base.mark_rule(strokeDash=[4, 4], color="gray").encode(
        y=alt.datum(CHANCE), x=alt.value(0), x2=alt.value(width), color=alt.value("gray"))
    layered = alt.layer(base.mark_line(point=True), chance, data=sweep)
    return _svg(layered.properties(width=width, height=200).facet(
        column=alt.Column("site:O", title="site"),
        title="IIA against map complexity: maps fitted on one half of the entities, tested "
              "on the other"))


def court_heatmap(court: pd.DataFrame, width: int = HALF_WIDTH) -> alt.LayerChart:
    """court (`analysis.court`, trained rows): site, title, iia, supported."""
    base = alt.Chart(court, title="Hypothesis court: IIA per site and hypothesis").encode(
        x=alt.X("site:O", title="site", axis=FLAT_LABELS),
        y=alt.Y("title:N", title=None))
    cells = base.mark_rect().encode(
        color=alt.Color("iia:Q", scale=alt.Scale(domain=[0.5, 1], scheme="blues"), title="IIA"),
        tooltip=["site", "title", alt.Tooltip("iia:Q", format=".3f"), "supported"])
    text = base.mark_text().encode(
        text=alt.Text("iia:Q", format=".2f"),
        color=alt.condition("datum.iia > 0.8", alt.value("white"), alt.value("black")))
    return _svg((cells + text).properties(width=width))


def pair_success_heatmap(cells: pd.DataFrame, width: int = 150) -> alt.FacetChart:
    """cells (`analysis.court.pair_success`): base_pattern, source_pattern, intervention,
    n, iia; one panel per intervention type."""
    base = alt.Chart(cells).encode(
        x=alt.X("source_pattern:N", title="source pattern", axis=FLAT_LABELS),
        y=alt.Y("base_pattern:N", title="base pattern"))
    rect = base.mark_rect().encode(
        color=alt.Color("iia:Q", scale=alt.Scale(domain=[0, 1], scheme="redyellowblue"),
                        title="IIA"),
        tooltip=["base_pattern", "source_pattern", "intervention",
                 alt.Tooltip("iia:Q", format=".3f"), "n"])
    text = base.mark_text().encode(text=alt.Text("iia:Q", format=".2f"))
    return _svg(alt.layer(rect, text, data=cells).properties(width=width, height=150).facet(
        column=alt.Column("intervention:N", title="intervention"),
        title="Per-pair success: IIA by base pattern x source pattern"))


def paired_bars(frame: pd.DataFrame, title: str, x_title: str = "") -> alt.LayerChart:
    """frame: measure, configuration ('pinned' / 'current'), value. Two configurations side
    by side on one chart: per measure one bar each, coloured by configuration, with values."""
    measures, configs = list(dict.fromkeys(frame.measure)), list(dict.fromkeys(frame.configuration))
    base = alt.Chart(frame, title=title).encode(
        x=alt.X("measure:N", sort=measures, title=x_title or None,
                axis=alt.Axis(labelAngle=0, labelLimit=160)),
        xOffset=alt.XOffset("configuration:N", sort=configs),
        y=alt.Y("value:Q", title="score", scale=UNIT_SCALE, axis=alt.Axis(tickCount=10)),
        tooltip=["measure", "configuration", alt.Tooltip("value:Q", format=".3f")])
    bars = base.mark_bar().encode(color=alt.Color("configuration:N", sort=configs, title=None,
                                                  scale=PAIR, legend=alt.Legend(orient="top")))
    values = base.mark_text(dy=-6, fontSize=11).encode(text=alt.Text("value:Q", format=".3f"))
    return _svg((bars + values + _chance_rule()).properties(width=MAIN_WIDTH - 60, height=320))


def seed_dots(frame: pd.DataFrame) -> alt.LayerChart:
    """frame: seed, measure, value (one row per seed and measure). One dot per seed, the
    mean as a tick, per measure, with the chance line."""
    base = alt.Chart(frame).encode(y=alt.Y("measure:N", title=None, sort=None))
    dots = base.mark_circle(size=70, opacity=0.8).encode(
        x=alt.X("value:Q", title="score", scale=alt.Scale(domain=[0.4, 1.0])),
        color=alt.Color("seed:N", title="seed"),
        tooltip=["measure", "seed", alt.Tooltip("value:Q", format=".3f")])
    mean = base.mark_tick(thickness=2, size=24, color="black").encode(x="mean(value):Q")
    chance = alt.Chart(pd.DataFrame({"x": [CHANCE]})).mark_rule(
        strokeDash=[4, 4], color="gray").encode(x="x:Q")
    return _svg((dots + mean + chance).properties(height=140, title="Per seed (tick: mean)"))
