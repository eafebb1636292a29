"""Findings charts: each spec encodes the intended fields and aggregates. A small
interpreter applies a layer's aggregates to the chart's embedded data the way Vega-Lite
does (group by every non-aggregated channel), and the result is compared with values known
by construction of the frame."""

import itertools

import numpy as np
import pandas as pd
import pytest

from explorer.study import findings

from explorer.plots import findings as charts

OPS = {"mean": "mean", "min": "min", "max": "max", "count": "size"}
GROUPING = ("x", "xOffset", "color", "strokeDash", "detail")


def frame_iia() -> pd.DataFrame:
    """iia = base(activation, site, k) + offset(seed), offsets -0.1, -0.05, 0, 0.05, 0.1:
    mean = base, min = base - 0.1, max = base + 0.1 by construction."""
    rows = []
    for act, site, k, seed in itertools.product(("relu", "sigmoid"), (0, 1), (1, 8), range(5)):
        base = 0.5 + 0.1 * site + 0.01 * k + (0.05 if act == "relu" else 0.0)
        rows.append({"activation": act, "site": site, "k": k, "seed": seed,
                     "iia": base + (seed - 2) * 0.05})
    return pd.DataFrame(rows)


def _field(channel) -> str | None:
    return channel.get("field") if isinstance(channel, dict) else None


def layers(spec: dict) -> list[dict]:
    inner = spec.get("spec", spec)
    return inner.get("layer", [inner])


def facet_fields(spec: dict) -> list[str]:
    facet = spec.get("facet", {})
    return [f["field"] for f in facet.values()] if "field" not in facet else [facet["field"]]


def aggregate(spec: dict, layer: dict) -> pd.DataFrame:
    """The layer's aggregated values as Vega-Lite computes them, from the embedded data."""
    data = pd.DataFrame(spec["datasets"][next(iter(spec["datasets"]))])
    enc = layer["encoding"]
    keys = [_field(enc[c]) for c in GROUPING if c in enc and "aggregate" not in enc[c]]
    keys = list(dict.fromkeys([k for k in keys if k] + facet_fields(spec)))
    out = {}
    for channel in ("y", "y2"):
        ch = enc.get(channel)
        if isinstance(ch, dict) and "aggregate" in ch:
            out[f"{ch['aggregate']}({ch['field']})"] = (ch["field"], OPS[ch["aggregate"]])
    return data.groupby(keys).agg(**out).reset_index()


def test_iia_vs_k_shows_the_seed_mean_and_range_per_activation_site_and_k():
    frame = frame_iia()
    spec = charts.iia_vs_k(frame).to_dict()
    assert facet_fields(spec) == ["site"]
    band, line, chance = layers(spec)
    assert band["encoding"]["y"]["aggregate"] == "min"
    assert band["encoding"]["y2"]["aggregate"] == "max"
    assert line["encoding"]["y"] == {**line["encoding"]["y"], "aggregate": "mean", "field": "iia"}
    assert line["encoding"]["color"]["field"] == "activation"
    means = aggregate(spec, line).set_index(["k", "activation", "site"])["mean(iia)"]
    ranges = aggregate(spec, band).set_index(["k", "activation", "site"])
    expected = frame[frame.seed == 2].set_index(["k", "activation", "site"]).iia
    assert len(means) == 8
    np.testing.assert_allclose(means.loc[expected.index], expected, atol=1e-12)
    np.testing.assert_allclose(ranges.loc[expected.index, "min(iia)"], expected - 0.1, atol=1e-12)
    np.testing.assert_allclose(ranges.loc[expected.index, "max(iia)"], expected + 0.1, atol=1e-12)
    assert chance["encoding"]["y"]["datum"] == 0.5


def test_method_comparison_aggregates_seeds_per_method_activation_and_site():
    results = pd.DataFrame([
        {"method": m, "hypothesis": h, "width": 16, "k": 8, "site": site, "activation": "relu",
         "seed": seed, "iia": 0.9 - 0.1 * (m == "neuron") - 0.3 * (h == "identity") + seed / 100,
         "untrained_das_iia": 0.55, "random_rotation_iia": 0.5}
        for m, h, site, seed in itertools.product(("das", "neuron"), ("both", "identity"),
                                                  (0, 1), range(5))])
    frame = findings.method_frame(results, None)
    spec = charts.method_comparison(frame, findings.METHODS).to_dict()
    rule, tick, dots = layers(spec)
    assert facet_fields(spec) == ["site"] and tick["encoding"]["x"]["field"] == "method"
    means = aggregate(spec, tick).set_index(["method", "activation", "site"])["mean(score)"]
    assert means[("DAS", "relu", 1)] == pytest.approx(0.92)
    assert means[("neuron-wise search", "relu", 1)] == pytest.approx(0.82)
    assert means[("identity-hypothesis DAS", "relu", 0)] == pytest.approx(0.62)
    assert means[(findings.UNTRAINED.label, "relu", 1)] == pytest.approx(0.55)
    lows = aggregate(spec, rule).set_index(["method", "activation", "site"])["min(score)"]
    assert lows[("DAS", "relu", 1)] == pytest.approx(0.90)


def test_search_success_bars_are_the_fraction_of_restarts_that_succeed():
    search = pd.DataFrame([{"activation": a, "site": 0, "k": 4, "init": i, "seed": s,
                            "restart": r, "success": (a == "relu" and r < 1) or i == "identity"}
                           for a, i, s, r in itertools.product(("relu", "sigmoid"),
                                                               ("random", "identity"),
                                                               range(5), range(4))])
    spec = charts.search_success(search).to_dict()
    rates = aggregate(spec, layers(spec)[0]).set_index(["init", "activation", "k", "site"])
    assert rates.loc[("random", "relu", 4, 0), "mean(success)"] == 0.25
    assert rates.loc[("random", "sigmoid", 4, 0), "mean(success)"] == 0.0
    assert rates.loc[("identity", "sigmoid", 4, 0), "mean(success)"] == 1.0


def test_map_basin_probe_and_angle_charts_encode_their_fields():
    maps = pd.DataFrame([{"activation": "relu", "seed": s, "site": 1, "map": m, "iia": v + s / 100,
                          "k_V1": 8, "k_V2": 5 + s % 2}
                         for s in range(5) for m, v in (("orthogonal", .8), ("linear", .85),
                                                        ("boundless", .7))])
    spec = charts.map_comparison(maps).to_dict()
    means = aggregate(spec, layers(spec)[1]).set_index("map")["mean(iia)"]
    assert means["linear"] == pytest.approx(0.87)
    sizes = findings.boundless_sizes(maps)
    assert sorted(sizes.variable.unique()) == ["V1", "V2"] and len(sizes) == 10
    spec = charts.boundless_sizes(sizes).to_dict()
    assert aggregate(spec, layers(spec)[1]).set_index("variable")["mean(size)"]["V2"] == 5.4
    basin = pd.DataFrame({"activation": "relu", "seed": 0, "draw": 0, "degrees": [0, 5],
                          "iia": [1.0, 0.6]})
    spec = charts.basin(basin).to_dict()
    assert layers(spec)[1]["encoding"]["x"]["field"] == "degrees"
    assert layers(spec)[1]["encoding"]["y"]["aggregate"] == "mean"
    probes = pd.DataFrame({"activation": "relu", "seed": 0, "site": [0, 1], "variable": "V1",
                           "labels": "true labels", "network": "trained", "accuracy": [.5, .9]})
    spec = charts.probes(probes).to_dict()
    assert spec["spec"]["encoding"]["strokeDash"]["field"] == "labels"
    assert {spec["facet"]["column"]["field"], spec["facet"]["row"]["field"]} == {"network",
                                                                                 "variable"}
    angles = pd.DataFrame({"activation": "relu", "seed": 0, "site": 1, "k": 8,
                           "comparison": ["between restarts (V1)"] * 2, "mean_degrees": [30, 50]})
    spec = charts.angles(angles).to_dict()
    assert aggregate(spec, layers(spec)[1])["mean(mean_degrees)"].item() == 40
    for chart in (charts.basin(basin), charts.angles(angles)):
        assert chart.to_dict()["usermeta"]["embedOptions"]["renderer"] == "svg"


def test_budget_charts_show_the_seed_mean_of_success_and_of_the_best_iia():
    """Seed s (0-3) has success s/4 and best IIA 0.6 + 0.1 s at every budget > 0, so the
    mean over seeds is 0.375 / 0.75 and the range 0-0.75 / 0.6-0.9; budget 0 is not drawn
    (log axis)."""
    rows = [{"activation": a, "setting": "orthogonal k = 8", "seed": s, "step": step,
             "success": s / 4 * (step > 0), "any_success": float(s > 0 and step > 0),
             "best_val_iia": 0.6 + 0.1 * s, "target": 1.0, "restarts": 4}
            for a, s, step in itertools.product(("relu", "sigmoid"), range(4), (0, 300, 3000))]
    frame = pd.DataFrame(rows)
    spec = charts.budget_success(frame).to_dict()
    band, line, seeds = layers(spec)
    assert facet_fields(spec) == ["setting"]
    assert line["encoding"]["x"]["scale"]["type"] == "log"
    means = aggregate(spec, line).set_index(["step", "activation"])["mean(success)"]
    assert sorted(set(means.index.get_level_values("step"))) == [300, 3000]
    assert means[(300, "relu")] == pytest.approx(0.375)
    assert aggregate(spec, band).set_index(["step", "activation"])["max(success)"][
        (3000, "sigmoid")] == pytest.approx(0.75)
    assert aggregate(spec, seeds).set_index(["step", "activation"])["mean(any_success)"][
        (300, "relu")] == pytest.approx(0.75)
    spec = charts.budget_iia(frame).to_dict()
    band, line, oracle, chance = layers(spec)
    ranges = aggregate(spec, band).set_index(["step", "activation"])
    assert ranges.loc[(300, "relu"), "min(best_val_iia)"] == pytest.approx(0.6)
    assert ranges.loc[(300, "relu"), "max(best_val_iia)"] == pytest.approx(0.9)
    assert aggregate(spec, oracle)["mean(target)"].eq(1.0).all()
    assert chance["encoding"]["y"]["datum"] == 0.5
