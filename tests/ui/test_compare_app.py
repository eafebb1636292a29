"""Issue 11, pin & compare (AppTest): a pinned configuration is shown beside the current one
with each side's numbers equal to the shipped table's row for that config (oracle: pandas on
pretrained/results.csv), the link carries the pin and reopening it restores the comparison,
and a bad pin in a link is reported and ignored."""

import pandas as pd
from streamlit import dataframe_util
import torch
import pytest

from app import params, session
from explorer.core.config import RunConfig
from tests.app_driver import ROOT, heatmap_matrices, metric, open_app
from tests.shipped_support import BASE, BASE_PARAMS, oracle_rows

RESULTS = ROOT / "pretrained" / "results.csv"
pytestmark = pytest.mark.skipif(not RESULTS.exists(), reason="pretrained/ not generated")


def oracle(cfg: RunConfig) -> dict[str, str]:
    """The shipped table's numbers for cfg, as the metrics print them."""
    rows = oracle_rows(pd.read_csv(RESULTS), cfg)
    das, neuron = rows[rows.method == "das"].iloc[0], rows[rows.method == "neuron"].iloc[0]
    values = {"task accuracy": das.task_accuracy, "DAS IIA": das.iia,
              "DAS IIA, label-changing": das.iia_label_changed,
              "neuron-wise IIA": neuron.iia, "no-intervention baseline": das.no_intervention_baseline}
    return {name: f"{value:.3f}" for name, value in values.items()}


def shown(at, side: str) -> dict[str, str | None]:
    return {name: metric(at, f"{name} · {side}") for name in oracle(BASE)}


def pinned_then_sigmoid():
    at = open_app({**BASE_PARAMS, "page": "das"})
    assert metric(at, "DAS IIA · pinned") is None  # nothing pinned yet
    at.button(key="pin_button").click().run()
    at.selectbox(key="activation").set_value("sigmoid").run()
    assert not at.exception, at.exception
    return at


def test_pinned_relu_beside_current_sigmoid_each_equal_to_the_table():
    at = pinned_then_sigmoid()
    relu, sigmoid = BASE, BASE.with_values(activation="sigmoid")
    assert shown(at, "pinned") == oracle(relu)
    assert shown(at, "current") == oracle(sigmoid)
    assert oracle(relu) != oracle(sigmoid)
    text = " ".join(m.value for m in at.markdown)
    assert "**activation**: pinned relu → current sigmoid" in text
    delta = next(m for m in at.metric if m.label == "DAS IIA · current").proto.delta
    expected = float(oracle(sigmoid)["DAS IIA"]) - float(oracle(relu)["DAS IIA"])
    assert abs(float(delta.split()[0]) - expected) < 0.0015
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any('"pinned"' in s and '"current"' in s for s in specs)  # one chart, two colours
    assert metric(at, "Precomputed DAS IIA") == oracle(sigmoid)["DAS IIA"]  # the page as before


def test_the_train_page_shows_both_accuracies():
    at = pinned_then_sigmoid()
    at.radio(key="page").set_value("train").run()
    relu, sigmoid = BASE, BASE.with_values(activation="sigmoid")
    assert metric(at, "task accuracy · pinned") == oracle(relu)["task accuracy"]
    assert metric(at, "task accuracy · current") == oracle(sigmoid)["task accuracy"]
    assert metric(at, "DAS IIA · pinned") is None  # accuracy only on the Train page


def test_the_link_carries_the_pin_and_reopens_the_comparison():
    at = pinned_then_sigmoid()
    link = {name: at.query_params[name][0] if isinstance(at.query_params[name], list)
            else at.query_params[name] for name in at.query_params}
    assert params.decode_pin(link["pin"]) == BASE.to_flat()
    again = open_app(link)
    assert not again.exception and not again.error
    assert shown(again, "pinned") == oracle(BASE)
    assert shown(again, "current") == oracle(BASE.with_values(activation="sigmoid"))
    again.button(key="unpin_button").click().run()
    assert metric(again, "DAS IIA · pinned") is None and "pin" not in again.query_params


@pytest.mark.parametrize("pin", ["activation:softmax", "garbage", "nosuchfield:1", "k:1e9", ","])
def test_a_bad_pin_in_a_link_is_reported_and_ignored(pin):
    at = open_app({**BASE_PARAMS, "page": "das", "pin": pin})
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "**pin**" in errors and "nothing pinned" in errors
    assert metric(at, "DAS IIA · pinned") is None
    assert metric(at, "Precomputed DAS IIA") == oracle(BASE)["DAS IIA"]  # the page still works


def test_pin_codec_round_trips_and_names_only_changed_fields():
    flat = RunConfig().with_values(activation="sigmoid", k=4, train_lr=0.03).to_flat()
    assert params.encode_pin(flat) == "activation:sigmoid,train_lr:0.03,k:4"
    assert params.decode_pin(params.encode_pin(flat)) == flat
    assert params.decode_pin(params.encode_pin(RunConfig().to_flat())) == RunConfig().to_flat()
    assert params.decode_pin("layer:2") == RunConfig().with_values(site=2).to_flat()  # old name


def test_both_learned_maps_are_drawn_side_by_side():
    """The pinned and current rotations as heatmaps, each equal to its shipped rotation."""
    from explorer.store import shipped

    at = pinned_then_sigmoid()
    drawn = heatmap_matrices(at)
    titles = [t for t, _ in drawn]
    assert any(t.startswith("pinned: learned R (shipped)") for t in titles), titles
    assert any(t.startswith("current: learned R (shipped)") for t in titles), titles
    for cfg, side in ((BASE, "pinned"), (BASE.with_values(activation="sigmoid"), "current")):
        matrix = next(m for t, m in drawn if t.startswith(side))
        assert torch.equal(matrix, shipped.rotation_for(cfg)[0])


def test_a_pin_off_the_grid_keeps_its_live_run_and_map():
    """Off the grid (a tiny config): the pinned side is the live run made before pinning,
    its numbers and map those of that run, beside a current side with no run yet."""
    from app import stores
    from tests.app_driver import click, goto
    from tests.ui.test_jobs_app import TINY

    link = {**TINY, "train_steps": "300", "seed": "1301", "page": "train"}
    at = click(open_app(link), "train_button")
    at = click(goto(at, "das"), "das_button")
    cfg = RunConfig.from_flat(at.session_state[session.LAST_RUN])
    run = stores.find_alignment(cfg)
    assert run is not None
    at.button(key="pin_button").click().run()
    at.slider(key="k").set_value(1).run()
    assert not at.exception, at.exception
    assert metric(at, "DAS IIA · pinned") == f"{run.das.test.iia:.3f}"
    assert metric(at, "DAS IIA · current") == "—"  # not run, not precomputed
    pinned = [m for t, m in heatmap_matrices(at) if t.startswith("pinned: learned R (live run)")]
    assert len(pinned) == 1 and torch.equal(pinned[0], run.das.map)


def test_the_neuron_page_compares_the_neuron_wise_iia_per_site():
    at = pinned_then_sigmoid()
    at.radio(key="page").set_value("neuron").run()
    assert not at.exception, at.exception
    relu, sigmoid = BASE, BASE.with_values(activation="sigmoid")
    assert metric(at, "neuron-wise IIA · pinned") == oracle(relu)["neuron-wise IIA"]
    assert metric(at, "neuron-wise IIA · current") == oracle(sigmoid)["neuron-wise IIA"]
    assert metric(at, "DAS IIA · pinned") is None  # this page's measures only
    chart = next(c for c in at.get("vega_lite_chart")
                 if "Neuron-wise IIA per site" in c.proto.spec)
    drawn = pd.concat(dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data)
                      for d in chart.proto.datasets)
    table = pd.read_csv(RESULTS)
    for cfg, side in ((relu, "pinned"), (sigmoid, "current")):
        mine = drawn[drawn.method == side].set_index("site").iia
        assert len(mine) == 4
        for site, value in mine.items():
            rows = oracle_rows(table, cfg.with_values(site=int(site)))
            assert value == rows[rows.method == "neuron"].iloc[0].iia


def test_compare_metrics_fit_their_columns_and_never_read_minus_zero():
    """At 1280 px five labels like 'DAS IIA, label-changing · pinned' were cut ('…'): the
    measure names now head the columns (captions wrap) and each metric's label is collapsed;
    a difference that rounds to zero reads 'same as pinned', not '-0.000' with a down arrow."""
    at = pinned_then_sigmoid()
    compared = [m for m in at.metric if m.label.endswith((" · pinned", " · current"))]
    assert len(compared) == 10
    assert all(m.proto.label_visibility.value == 2 for m in compared)  # COLLAPSED
    heads = [c.value for c in at.caption]
    assert all(f"**{name}**" in heads for name in oracle(BASE))
    deltas = [m.proto.delta for m in compared if m.label.endswith(" · current")]
    assert not any(d.startswith(("-0.000", "+0.000")) for d in deltas), deltas
    baseline = next(m for m in compared if m.label == "no-intervention baseline · current")
    assert baseline.proto.delta == "same as pinned"  # 0.5227 vs 0.5224 in the shipped table


def test_the_comparison_carries_a_reading_of_its_largest_difference():
    at = pinned_then_sigmoid()
    relu, sigmoid = oracle(BASE), oracle(BASE.with_values(activation="sigmoid"))
    diffs = {name: float(sigmoid[name]) - float(relu[name]) for name in relu}
    largest = max(diffs, key=lambda name: abs(diffs[name]))
    reading = next(m.value for m in at.markdown if m.value.startswith("**Reading.** The largest"))
    assert f"in {largest}: current {sigmoid[largest]} against pinned {relu[largest]}" in reading
