"""analysis.readings: each reading says what its numbers say, on hand-built frames whose
answer is known (the oracle is the frame itself)."""

import pandas as pd

from explorer.analysis import readings


def probes(v1_true, v2_true, shuffled=0.5):
    rows = []
    for variable, accuracies in (("V1", v1_true), ("V2", v2_true)):
        for site, acc in enumerate(accuracies):
            rows += [{"site": site, "variable": variable, "labels": "true labels",
                      "accuracy": acc},
                     {"site": site, "variable": variable, "labels": "shuffled labels",
                      "accuracy": shuffled}]
    return pd.DataFrame(rows)


def test_the_probe_reading_names_the_best_site_and_what_is_decoded_nowhere():
    text = readings.probe_reading(probes([0.5, 0.97, 0.8], [0.55, 0.52, 0.58]))
    assert "V1 is decoded best at site 1 (0.97, shuffled labels 0.50)" in text
    assert "V2 is decoded nowhere above 0.6" in text
    assert "not used" in text  # decodable is not causal


def swaps(das_by_type, nothing=0.5):
    types = ["all", "V1", "V2", "both"]
    return pd.DataFrame({"method": ["DAS"] * 4 + ["no intervention"] * 4, "type": types * 2,
                         "iia": [*das_by_type, *[nothing] * 4], "n": [100] * 8})


def test_the_swap_reading_gives_the_overall_score_and_the_weakest_type():
    text = readings.swap_reading(swaps([0.9, 0.95, 0.8, 0.92]))
    assert "DAS follows the high-level model on 90% of these pairs against 50% for no " \
           "intervention" in text and "weakest intervention type is V2 (80%)" in text
    assert "always wrong" not in text
    changed = readings.swap_reading(swaps([0.9, 0.95, 0.8, 0.92], nothing=0.0), True)
    assert "against 0% for no intervention" in changed and "always wrong" in changed


def pinned_current(values):
    return pd.DataFrame({"measure": ["DAS IIA", "DAS IIA", "task accuracy", "task accuracy"],
                         "configuration": ["pinned", "current"] * 2, "value": values})


def test_the_compare_reading_weighs_the_largest_difference_against_sampling_noise():
    big = readings.compare_reading(pinned_current([0.91, 0.81, 1.0, 0.99]), 2048)
    assert "largest difference is in DAS IIA: current 0.810 against pinned 0.910 (-0.100)" \
        in big and "beyond sampling noise (0.031" in big  # 2 * sqrt(2 * 0.25 / 2048)
    small = readings.compare_reading(pinned_current([0.91, 0.90, 1.0, 0.995]), 2048)
    assert "within sampling noise" in small
    # fewer pairs, wider noise: the same 0.1 gap is then within it
    assert "within sampling noise" in readings.compare_reading(
        pinned_current([0.91, 0.81, 1.0, 0.99]), 100)
    assert readings.compare_reading(pinned_current([0.9, None, 1.0, None]), 2048) is None
