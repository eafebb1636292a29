"""Chart builders: small frames in, Vega-Lite specs with the expected marks and encodings."""

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

