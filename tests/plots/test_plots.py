"""Chart builders: small frames in, Vega-Lite specs with the expected marks and encodings."""

import altair as alt
import pandas as pd
import torch

from explorer.analysis import geometry as analysis

from explorer.plots import charts as plots

HISTORY = pd.DataFrame({"step": [100, 200], "loss": [0.6, 0.3], "train_accuracy": [0.6, 0.9]})


def marks(spec: dict) -> list[str]:
    """Every mark type in a (possibly nested) spec."""
    found = []
    if "mark" in spec:
        mark = spec["mark"]
        found.append(mark["type"] if isinstance(mark, dict) else mark)
    for key in ("layer", "hconcat", "vconcat"):
        for sub in spec.get(key, []):
            found += marks(sub)
    if "spec" in spec:
        found += marks(spec["spec"])
    return found


def encodings(spec: dict) -> dict:
    """Merged encodings of a spec's layers / panels."""
    enc = dict(spec.get("encoding", {}))
    for key in ("layer", "hconcat", "vconcat"):
        for sub in spec.get(key, []):
            enc = {**encodings(sub), **enc}
    if "spec" in spec:
        enc = {**encodings(spec["spec"]), **enc}
    return enc


def assert_svg(spec):
    assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"


def test_training_curves():
    loss = plots.loss_curve(HISTORY).to_dict()
    assert marks(loss) == ["line"] and encodings(loss)["y"]["field"] == "loss"
    acc = plots.accuracy_curve(HISTORY).to_dict()
    assert marks(acc) == ["line", "rule"]
    assert encodings(acc)["y"]["field"] == "train_accuracy"
    assert_svg(loss), assert_svg(acc)


def test_pattern_bars_keep_pattern_order():
    frame = pd.DataFrame({"pattern": ["all", "ABCD", "AABB"], "accuracy": [0.9, 0.8, 1.0],
                          "n": [30, 10, 10]})
    spec = plots.pattern_accuracy_bars(frame).to_dict()
    assert marks(spec) == ["bar", "text", "rule"]
    assert encodings(spec)["x"]["sort"] == ["all", "ABCD", "AABB"]


def test_pca_scatter_facets_by_site_and_colours_by_choice():
    points = pd.DataFrame({"site": [0, 0, 1, 1], "pc1": [0.0, 1, 2, 3], "pc2": [1.0, 2, 3, 4],
                           "V2": ["true", "false"] * 2, "pattern": ["ABCD"] * 4})
    spec = plots.pca_scatter(points, "V2").to_dict()
    assert marks(spec) == ["circle"]
    assert spec["facet"]["field"] == "site"
    assert encodings(spec)["color"]["field"] == "V2"


def test_probe_bars_group_true_and_shuffled_labels():
    frame = pd.DataFrame({"site": [0, 0], "variable": ["V1", "V1"],
                          "labels": [analysis.ACTUAL, analysis.CONTROL], "accuracy": [0.9, 0.5]})
    spec = plots.probe_bars(frame).to_dict()
    enc = encodings(spec)
    assert marks(spec) == ["bar"] and enc["xOffset"]["field"] == "labels"
    assert spec["facet"]["column"]["field"] == "variable"


def test_rotation_heatmap_has_a_rect_panel_per_block():
    mask = torch.zeros(2, 6)
    mask[0, :2], mask[1, 2:4] = 1, 1
    frame = analysis.matrix_frame(torch.eye(6), mask, ("V1", "V2"))
    spec = plots.rotation_heatmap(frame, "Learned rotation").to_dict()
    assert marks(spec) == ["rect", "rect", "rect"]
    assert [panel["title"] for panel in spec["hconcat"]] == ["V1", "V2", "rest"]
    enc = encodings(spec)
    assert enc["x"]["field"] == "coordinate" and enc["y"]["field"] == "unit"
    assert enc["color"]["field"] == "value"
    assert_svg(spec)


def test_neuron_heatmap_and_iia_curve():
    scores = pd.DataFrame({"site": [1, 1, 2], "variable": ["V1"] * 3, "neuron": [0, 1, 0],
                           "iia": [0.5, 0.6, 0.7]})
    spec = plots.neuron_heatmap(scores).to_dict()
    assert marks(spec) == ["rect"] and encodings(spec)["color"]["field"] == "iia"
    history = pd.DataFrame({"step": [50, 100], "restart": [0, 0], "val_iia": [0.6, 0.7],
                            "loss": [0.5, 0.4]})
    curve = plots.iia_curve(history).to_dict()
    assert marks(curve) == ["line", "rule"] and encodings(curve)["color"]["field"] == "restart"


def test_controls_and_swap_bars():
    controls = pd.DataFrame({"name": ["DAS", "random rotation"], "iia": [0.9, 0.5],
                             "kind": ["alignment", "control"]})
    spec = plots.controls_bars(controls).to_dict()
    assert marks(spec) == ["bar", "text", "rule"]
    assert encodings(spec)["y"]["sort"] == ["DAS", "random rotation"]
    summary = pd.DataFrame({"method": ["DAS", "full layer"], "type": ["all", "all"],
                            "iia": [0.9, 0.5], "n": [10, 10]})
    bars = plots.swap_outcome_bars(summary).to_dict()
    assert marks(bars) == ["bar", "rule"] and encodings(bars)["xOffset"]["field"] == "method"



def _heatmap_frame(d: int, k: int) -> pd.DataFrame:
    mask = torch.zeros(2, d)
    mask[0, :k], mask[1, k:2 * k] = 1, 1
    return analysis.matrix_frame(torch.eye(d), mask, ("V1", "V2"))


def test_fixed_size_charts_fit_the_narrowest_column():
    """Issue 11: at width 128 the rotation showed 23 of its 64 V1 columns, and the geometry
    page's charts ran past a 1280 px window. Every fixed-size chart now fits its column."""
    for d in (4, 16, 32, 128):
        with alt.data_transformers.enable("default", max_rows=None):  # 128 x 128 cells
            spec = plots.rotation_heatmap(_heatmap_frame(d, d // 2), "R").to_dict()
        panels = [p["width"] for p in spec["hconcat"]]
        assert sum(panels) + 45 + 6 * len(panels) <= plots.HALF_WIDTH, d
        assert all(p >= d // 2 for p in panels[:2])  # >= 1 px for each of the V1, V2 columns
        assert spec["hconcat"][0]["encoding"]["color"]["legend"]["orient"] == "bottom"
        scores = pd.DataFrame({"site": 1, "variable": "V1", "neuron": range(d), "iia": 0.5})
        step = plots.neuron_heatmap(scores).to_dict()["spec"]["width"]["step"]
        assert step * d + 130 <= plots.MAIN_WIDTH and step >= 1
    points = pd.DataFrame({"site": range(5), "pc1": 0.0, "pc2": 0.0, "V1": "true",
                           "pattern": "ABCD"})
    side = plots.pca_scatter(points, "V1").to_dict()["spec"]["width"]
    assert (side + 30) * 5 + 100 <= plots.MAIN_WIDTH
    probes = pd.DataFrame({"site": [0, 0], "variable": ["V1", "V2"],
                           "labels": [analysis.ACTUAL] * 2, "accuracy": [0.9, 0.5]})
    spec = plots.probe_bars(probes).to_dict()
    assert (spec["spec"]["width"] + 20) * 2 + 60 <= plots.TWO_THIRDS_WIDTH
    assert encodings(spec)["color"]["legend"]["orient"] == "bottom"


def test_the_headline_chart_reads_differences_of_five_hundredths():
    profile = pd.DataFrame({"site": [0, 0, 1, 1], "method": ["DAS", "neuron-wise search"] * 2,
                            "iia": [0.5, 0.55, 0.9, 0.85]})
    spec = plots.site_profile_bars(profile, "IIA per site").to_dict()
    assert (spec["height"] - 100) * 0.05 >= 14  # px per 0.05 of IIA (title, axes: ~100 px)
    assert marks(spec) == ["bar", "text", "rule", "text"]  # values on the bars, named chance
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert texts[0]["encoding"]["text"]["field"] == "iia"
    assert any("chance" in str(v) for v in spec["datasets"].values())


def test_each_series_keeps_its_colour_whatever_else_is_drawn():
    """Neuron-wise alone is not drawn in DAS's colour, and pinned / current take the compare
    panel's colours (the scheme had coloured series by their order in each chart)."""
    def colours(methods):
        frame = pd.DataFrame({"site": [1] * len(methods), "method": methods,
                              "iia": [0.8] * len(methods)})
        spec = plots.site_profile_bars(frame, "t").to_dict()
        scale = next(layer["encoding"]["color"]["scale"] for layer in spec["layer"]
                     if "color" in layer.get("encoding", {}))
        return dict(zip(scale["domain"], scale["range"]))
    both = colours(["DAS", "neuron-wise search"])
    assert colours(["neuron-wise search"])["neuron-wise search"] == both["neuron-wise search"]
    assert both["DAS"] != both["neuron-wise search"]
    pair = colours(["pinned", "current"])
    assert [pair["pinned"], pair["current"]] == plots.PAIR.range


def test_paired_bars_colour_the_two_configurations_and_label_values():
    frame = pd.DataFrame({"measure": ["DAS IIA", "DAS IIA", "task accuracy", "task accuracy"],
                          "configuration": ["pinned", "current"] * 2,
                          "value": [0.81, 0.72, 1.0, 0.99]})
    spec = plots.paired_bars(frame, "pinned vs current").to_dict()
    assert_svg(spec)
    assert {"bar", "text", "rule"} <= set(marks(spec))
    colour = encodings(spec)["color"]
    assert colour["field"] == "configuration" and colour["scale"]["domain"] == ["pinned", "current"]
    assert encodings(spec)["xOffset"]["field"] == "configuration"
    assert spec["width"] <= plots.MAIN_WIDTH  # fits the narrowest main column
