"""Issue 11: every result carries a reading computed from its numbers, and on the shipped grid
the Neuron-wise page shows its answer with no button (it had shown only 'Run neuron-wise
search'); off the grid it names the nearest precomputed configurations. Oracle: pandas on
pretrained/results.csv."""

import pandas as pd
import pytest

from explorer.analysis import readings
from tests.app_driver import ROOT, metric, open_app
from tests.shipped_support import BASE, oracle_rows

RESULTS = ROOT / "pretrained" / "results.csv"
pytestmark = pytest.mark.skipif(not RESULTS.exists(), reason="pretrained/ not generated")


def rows(**fields):
    return oracle_rows(pd.read_csv(RESULTS), BASE.with_values(**fields))


def texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_the_neuron_page_shows_the_shipped_answer_with_no_button():
    at = open_app({"page": "neuron"})
    neuron = rows()[lambda r: r.method == "neuron"].iloc[0]
    assert metric(at, "Precomputed neuron-wise IIA") == f"{neuron.iia:.3f}"
    assert metric(at, "baseline (precomputed)") == f"{neuron.no_intervention_baseline:.3f}"
    v1, v2 = (part.split() for part in neuron.neurons.split(";"))
    assert f"**V1** ← units `{[int(u) for u in v1]}`" in texts(at)
    assert f"**V2** ← units `{[int(u) for u in v2]}`" in texts(at)
    assert any(t.startswith("**Reading.** Swapping the best 8 units per variable gives IIA "
                            f"{neuron.iia:.3f}") for t in texts(at))
    assert any("Neuron-wise IIA per site" in c.proto.spec for c in at.get("vega_lite_chart"))
    at.slider(key="k").set_value(4).run()  # the next grid point: still no button needed
    neuron = rows(k=4)[lambda r: r.method == "neuron"].iloc[0]
    assert metric(at, "Precomputed neuron-wise IIA") == f"{neuron.iia:.3f}"


def test_off_the_grid_the_neuron_page_names_the_nearest():
    at = open_app({"page": "neuron", "k": "7"})
    assert metric(at, "Precomputed neuron-wise IIA") is None
    assert any("Not precomputed" in t and "Run neuron-wise search" in t for t in texts(at))
    assert not at.button(key="neuron_button").disabled


def test_the_das_result_and_the_headline_chart_carry_readings():
    table = rows()
    das = table[table.method == "das"].iloc[0]
    neuron = table[table.method == "neuron"].iloc[0]
    at = open_app({"page": "das"})
    reading = next(t for t in texts(at) if t.startswith("**Reading.** DAS IIA"))
    assert reading.startswith(f"**Reading.** DAS IIA is {das.iia:.3f}")
    assert f"random-features network (untrained layers, fitted readout) scores " \
           f"{das.random_features_das_iia:.3f}" in reading
    assert ("localist" in reading) == (abs(das.iia - neuron.iia) <= 0.01)
    at = open_app({"page": "train"})
    assert any(t.startswith("**Reading.** Past the input, DAS IIA is highest at site 1")
               for t in texts(at))


def test_readings_follow_the_numbers():
    assert "near chance" in readings.das_reading(0.52, 0.51, 0.5, 0.01)
    assert "distributed" in readings.das_reading(0.9, 0.8, 0.5, 0.01)
    assert "localist" in readings.das_reading(0.9, 0.895, 0.5, 0.01)
    assert "search miss" in readings.das_reading(0.8, 0.9, 0.5, 0.01)
    profile = pd.DataFrame({"site": [0, 1, 2, 3], "method": "DAS",
                            "iia": [1.0, 0.94, 0.67, 0.58]})
    assert readings.site_reading(profile, "DAS") == (
        "**Reading.** Past the input, DAS IIA is highest at site 1 (0.94) and 0.58 at the last "
        "hidden layer (site 3); at site 3 it is near chance (0.5): the variables are not held "
        "there in this form.")


def test_the_swap_outcomes_carry_a_reading_on_the_shipped_grid():
    """The stored alignments score the shipped IIA on the test pairs (tests/ui/test_instant_app):
    the reading's overall share is that IIA."""
    das = rows()[lambda r: r.method == "das"].iloc[0]
    at = open_app({"page": "swaps", "swap_changed": "false"})
    reading = next(t for t in texts(at) if t.startswith("**Reading.** DAS"))
    assert f"on {das.iia:.0%} of these pairs against " in reading
    assert "weakest intervention type is" in reading
