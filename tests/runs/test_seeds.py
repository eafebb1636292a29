"""runs.seeds and `run --seeds`: each seed's entry equals `run --seed S` (timings aside);
bad --seeds input is one line naming the field and the allowed range, exit code 2."""

import json
import math

import pytest

from explorer.cli import main
from explorer.core.config import ConfigError, RunConfig
from explorer.runs.seeds import MAX_SEEDS, check_seeds, parse_seeds, spread

FAST = ["--quiet", "--train-steps", "200", "--das-steps", "60", "--das-patience", "30",
        "--restarts", "2", "--n-train-pairs", "256", "--n-val-pairs", "128",
        "--n-test-pairs", "256", "--n-search-pairs", "128", "--k", "2", "--eval-size", "512"]


def _numbers(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "timings"}


def test_seeds_entries_equal_the_single_seed_runs(tmp_path, capsys):
    assert main(["run", *FAST, "--seeds", "0,1", "--json", str(tmp_path / "m.json")]) == 0
    text = capsys.readouterr().out
    assert "mean" in text and "± SD" in text and "DAS IIA" in text
    multi = json.loads((tmp_path / "m.json").read_text())
    assert multi["seeds"] == [0, 1] and len(multi["runs"]) == 2
    for i, seed in enumerate((0, 1)):
        path = tmp_path / f"{seed}.json"
        assert main(["run", *FAST, "--seed", str(seed), "--json", str(path)]) == 0
        assert _numbers(multi["runs"][i]) == _numbers(json.loads(path.read_text()))
    das = [r["das"]["iia"] for r in multi["runs"]]
    assert multi["spread"]["das_iia"]["mean"] == pytest.approx(sum(das) / 2)
    assert multi["spread"]["das_iia"]["sd"] == pytest.approx(abs(das[0] - das[1]) / math.sqrt(2))


def test_revnet_seeds_fit_the_revnet_map_as_their_single_seed_runs(tmp_path):
    """The RevNet map is no matrix: its seeds are fitted one after another, not in the
    matrix batch (which once fitted a plain linear map under the name revnet)."""
    flags = [*FAST, "--map", "revnet", "--map-width", "2"]
    assert main(["run", *flags, "--seeds", "0", "--json", str(tmp_path / "m.json")]) == 0
    assert main(["run", *flags, "--seed", "0", "--json", str(tmp_path / "0.json")]) == 0
    multi, single = (json.loads((tmp_path / name).read_text()) for name in ("m.json", "0.json"))
    assert multi["batched"]["das"] is False and single["das"]["map_family"] == "revnet"
    # as text: the permutation control is NaN for a RevNet map, and NaN != NaN
    assert (json.dumps(_numbers(multi["runs"][0]), sort_keys=True)
            == json.dumps(_numbers(single), sort_keys=True))


@pytest.mark.parametrize("text, says", [
    ("0,x", "between 0 and 2147483647"), ("1,2,1", "seed 1 is given twice"),
    (",".join(map(str, range(MAX_SEEDS + 1))), f"at most {MAX_SEEDS} seeds"),
    ("", "comma-separated"), ("-1", "between 0 and"), ("99999999999", "between 0 and"),
])
def test_bad_seeds_name_the_field_and_exit_2(text, says, capsys):
    assert main(["run", "--quiet", "--seeds", text]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --seeds: ") and says in err[0]
    with pytest.raises(ConfigError) as raised:
        parse_seeds(text)
    assert raised.value.field == "seeds"


def test_seeds_with_seed_or_checkpoint_and_over_memory_are_refused(capsys, tmp_path):
    assert main(["run", "--quiet", "--seeds", "0,1", "--seed", "2"]) == 2
    assert "--seed" in capsys.readouterr().err
    assert parse_seeds(" 3, 1 ,2") == (3, 1, 2)
    big = RunConfig().with_values(width=128, eval_size=200_000)
    with pytest.raises(ConfigError, match="seeds fit") as raised:
        check_seeds(big, tuple(range(20)))
    assert raised.value.field == "seeds"
    check_seeds(RunConfig(), tuple(range(5)))  # the default 5-seed run fits


def test_spread_of_one_seed_has_no_sd():
    import pandas as pd
    one = spread(pd.DataFrame([{"task_accuracy": 1.0, "das_iia": 0.9, "neuron_iia": 0.8}]))
    assert one["das_iia"]["mean"] == 0.9 and math.isnan(one["das_iia"]["sd"])
