import json

import pytest

from explorer.cli import main
from explorer.core.config import ConfigError, RunConfig, validate
from explorer.core.vocabulary import CONTROLS


def test_flat_round_trip_and_string_coercion():
    cfg = RunConfig().with_values(width=32, k=4, das_lr=0.02, activation="tanh")
    assert RunConfig.from_flat(cfg.to_flat()) == cfg
    as_strings = {k: str(v) for k, v in cfg.to_flat().items()}
    assert RunConfig.from_flat(as_strings) == cfg


@pytest.mark.parametrize("values, field", [
    ({"k": 9}, "k"), ({"activation": "swish"}, "activation"), ({"site": 4}, "site"),
    ({"width": 1}, "width"), ({"hypothesis": "left", "k": 17}, "k"), ({"layers": 5}, "layers"),
    ({"das_lr": 0.0}, "das_lr"), ({"map": "affine"}, "map"),
])
def test_invalid_settings_name_their_field(values, field):
    with pytest.raises(ConfigError) as err:
        validate(RunConfig().with_values(**values))
    assert err.value.field == field


def test_cli_rejects_bad_config_with_exit_2_and_one_line(capsys):
    assert main(["run", "--k", "12"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --k: must be between 1 and 8 (got 12)"]
    assert main(["run", "--activation", "swish"]) == 2
    assert "--activation" in capsys.readouterr().err
    with pytest.raises(SystemExit) as unknown:  # argparse rejects unknown flags itself
        main(["run", "--bogus-flag", "1"])
    assert unknown.value.code == 2 and "--bogus-flag" in capsys.readouterr().err


def test_cli_json_report_is_complete_and_reproducible(tmp_path):
    flags = ["run", "--quiet", "--train-steps", "300", "--das-steps", "40", "--restarts", "2",
             "--n-train-pairs", "256", "--n-val-pairs", "128", "--n-test-pairs", "256",
             "--n-search-pairs", "128", "--k", "2", "--eval-size", "512"]
    reports = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.json"
        assert main(flags + ["--json", str(path)]) == 0
        reports.append(json.loads(path.read_text()))
    for key in ("task_accuracy", "das", "neuron", "controls", "timings", "config"):
        assert key in reports[0]
    assert {"iia", "iia_by_type", "converged", "steps_used"} <= set(reports[0]["das"])
    assert isinstance(reports[0]["das"]["converged"], bool)
    steps = reports[0]["das"]["steps_used"]
    assert 1 <= steps <= 40  # the cap
    assert reports[0]["das"]["converged"] or steps == 40  # stopping early means patience ran out
    controls = reports[0]["controls"]
    assert {"untrained_das_iia", "random_rotation_iia", "closest_permutation_iia",
            "full_layer_iia", "untrained_output_std", "random_features_das_iia",
            "random_features_task_accuracy", "random_rotation_iia_mean",
            "random_rotation_iia_sd", "cross_variable_iia",
            "full_layer_source_label_iia"} <= set(controls)
    for c in CONTROLS:  # every control: its score, verdict, and what a pass and a fail are
        assert c.column in controls and controls["verdicts"][c.key]
        assert controls["expectations"][c.key] == {"score": c.column, "label": c.label,
                                                   "question": c.question, "pass": c.passes,
                                                   "fail": c.fails}
    assert any("did not converge" in note for note in reports[0]["notes"])
    assert set(reports[0]["timings"]) >= {"train", "das", "neuron", "controls", "total"}
    assert reports[0]["config"]["k"] == 2
    for r in reports:
        r.pop("timings")
    assert reports[0] == reports[1]



def test_run_with_the_revnet_map_takes_its_own_budget_where_no_flag_is_given():
    from explorer.cli import build_parser, run_config
    from explorer.core.config import REVNET_BUDGET
    cfg = run_config(build_parser().parse_args(["run", "--map", "revnet", "--restarts", "3"]))
    flat = cfg.to_flat()
    assert flat["restarts"] == 3  # given: kept
    assert all(flat[k] == v for k, v in REVNET_BUDGET.items() if k != "restarts")
    plain = run_config(build_parser().parse_args(["run"])).to_flat()
    assert plain == RunConfig().to_flat()  # the orthogonal map keeps run's defaults
    assert any(plain[k] != v for k, v in REVNET_BUDGET.items())
