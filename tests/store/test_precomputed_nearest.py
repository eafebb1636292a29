"""precomputed.nearest: off the shipped grid, the closest precomputed configurations (fewest
differing fields, then the smallest differences), checked on a small table by hand."""

import pandas as pd

from explorer.core.config import RunConfig
from explorer.store import precomputed


def _table(tmp_path, configs: list[dict]):
    rows = []
    for i, values in enumerate(configs):
        flat = RunConfig().with_values(**values).to_flat()
        rows += [{"key": f"d{i}", "method": "das", **flat, "iia": 0.8 + i / 100},
                 {"key": f"n{i}", "method": "neuron", **flat, "iia": 0.6 + i / 100}]
    pd.DataFrame(rows).to_csv(tmp_path / "results.csv", index=False)
    return tmp_path


def test_fewest_fields_first_then_the_closest_values(tmp_path):
    folder = _table(tmp_path, [dict(k=8), dict(k=4), dict(k=2, width=32), dict(k=7)])
    found = precomputed.nearest(RunConfig().with_values(k=7), folder=folder)
    assert [n.differences for n in found] == [{"k": (8, 7)}, {"k": (4, 7)},
                                              {"k": (2, 7), "width": (32, 16)}]
    assert list(found[0].rows.method) == ["das", "neuron"]
    assert found[0].rows.iia.tolist() == [0.8, 0.6]
    assert found[1].flat == RunConfig().with_values(k=4).to_flat()


def test_a_different_value_of_a_choice_counts_one_and_the_config_itself_is_left_out(tmp_path):
    folder = _table(tmp_path, [dict(map="linear"), dict(seed=3), dict()])
    found = precomputed.nearest(RunConfig().with_values(seed=2), folder=folder, limit=5)
    assert [n.differences for n in found] == [{"seed": (3, 2)}, {"seed": (0, 2)},
                                              {"map": ("linear", "orthogonal"), "seed": (0, 2)}]
    assert precomputed.nearest(RunConfig(), folder=tmp_path / "absent") == []
