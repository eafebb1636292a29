"""Downloads (app/exports.py): file names that name the configuration, a tidy results CSV
(one row per measurement, checked against the result objects), provenance (versions and
commit) in every file, and 'rotation' only for an orthogonal map."""

import io
import json

import pandas as pd
import pytest
import torch
from safetensors import safe_open

from app import exports
from app.stores import AlignmentRun, TrainedModel, model_id
from explorer.core.train import accuracy_table, heldout_examples
from explorer.core.vocabulary import CONTROLS
from explorer.methods.steps import run_controls
from explorer.store import checkpoints
from explorer.store.provenance import provenance
from tests.app_driver import ROOT
from tests.app_fixtures import small_run  # noqa: F401  (fixture)
from tests.shipped_support import oracle_rows, shipped_default


@pytest.fixture(scope="module")
def exported(small_run):  # noqa: F811
    run = small_run
    entry = TrainedModel(run.cfg, run.model, None,
                         accuracy_table(run.model, heldout_examples(run.cfg, 256)), "test", 0.0)
    controls = run_controls(run.model, run.cfg, run.pairs, run.das)
    return run.cfg, entry, AlignmentRun(run.das, run.neuron, controls, run.pairs.test, 0.0,
                                         run.cfg, model_id(entry))


def test_file_names_differ_for_every_field_that_differs(exported):
    cfg = exported[0]
    variants = [cfg, *(cfg.with_values(**{name: value}) for name, value in (
        ("activation", "gelu"), ("map", "linear"), ("width", 32), ("hypothesis", "left"),
        ("train_steps", 401), ("seed", 1), ("k", 1)))]
    stems = [exports.stem(c) for c in variants]
    assert len(set(stems)) == len(stems)
    assert exports.stem(cfg) == exports.stem(cfg.with_values())  # the same config, same name
    assert "relu-w16-l3" in stems[0] and "both-orthogonal" in stems[0]
    assert exports.stem(cfg, "abc123") != stems[0]  # an upload is named apart


def test_results_csv_is_one_row_per_measurement(exported):
    cfg, entry, run = exported
    table = pd.read_csv(io.StringIO(exports.results_csv(cfg, entry, run)))
    task = table[table.kind == "task"]
    assert list(task.pattern) == list(entry.accuracy.pattern)
    assert task.accuracy.tolist() == pytest.approx(entry.accuracy.accuracy.tolist())
    measured = table[table.kind != "task"].set_index("result")
    assert list(measured.index) == ["das", "neuron", *(c.key for c in CONTROLS)]
    assert measured.loc["das", "iia"] == pytest.approx(run.das.test.iia)
    assert measured.loc["das", "iia_V2"] == pytest.approx(run.das.test.by_type["V2"])
    assert measured.loc["neuron", "n"] == run.neuron.test.n
    scores = run.controls.columns()
    for control in CONTROLS:
        assert measured.loc[control.key, "score"] == pytest.approx(scores[control.column])
        full = run.controls.iia_of(control.key)
        if full is not None:
            assert measured.loc[control.key, "iia"] == pytest.approx(full.iia)
    assert measured.loc["random_rotation", "random_rotation_iia_sd"] == pytest.approx(
        scores["random_rotation_iia_sd"])
    assert (table.width == cfg.model.width).all() and (table.k == cfg.das.k).all()
    assert (table.version_torch == torch.__version__).all()
    assert table.version_commit.notna().all()


def test_every_file_carries_provenance(exported, tmp_path):
    cfg, entry, run = exported
    assert provenance()["torch"] == torch.__version__ and provenance()["commit"]
    report = json.loads(exports.results_json(exports.results(cfg, entry, run)))
    assert report["provenance"] == provenance()
    meta = checkpoints.read_metadata(exports.checkpoint(cfg, entry))
    assert meta["provenance"] == provenance()
    path = tmp_path / "r.safetensors"
    path.write_bytes(exports.rotation_safetensors(cfg, run))
    with safe_open(str(path), "pt") as f:
        assert json.loads(f.metadata()["provenance"]) == provenance()
        assert f.metadata()["map"] == "orthogonal"


def test_a_linear_map_is_not_called_a_rotation(exported):
    cfg = exported[0]
    assert exports.map_name(cfg) == "rotation"
    assert exports.map_name(cfg.with_values(map="linear")) == "linear map"


@pytest.mark.skipif(not (ROOT / "pretrained" / "results.csv").exists(),
                    reason="pretrained/ not generated")
def test_before_a_run_the_shipped_grids_downloads_hold_its_precomputed_iia():
    """The default page shows the precomputed DAS and neuron-wise IIA; its downloads had held
    the task accuracy alone. Oracle: pandas on pretrained/results.csv."""
    cfg = shipped_default()
    entry = TrainedModel(cfg, None, None, pd.DataFrame(
        {"pattern": ["all"], "accuracy": [1.0], "n": [4]}), "shipped checkpoint", 0.0)
    rows = oracle_rows(pd.read_csv(ROOT / "pretrained" / "results.csv"), cfg)
    table = exports.results_table(cfg, entry, None)
    shipped = table[table.kind == "alignment (precomputed)"].set_index("result")
    for method in ("das", "neuron"):
        want = rows[rows.method == method].iloc[0]
        assert shipped.loc[method, "score"] == want.iia
        assert shipped.loc[method, "no_intervention_baseline"] == want.no_intervention_baseline
    assert table.version_commit.notna().all()  # provenance on these rows too
    report = exports.results(cfg, entry, None)
    assert {r["method"]: r["iia"] for r in report["precomputed"]["rows"]} == dict(
        zip(rows.method, rows.iia))
    uploaded = TrainedModel(cfg, None, None, entry.accuracy, "uploaded x", 0.0, origin="x")
    assert "precomputed" not in exports.results(cfg, uploaded, None)  # not this model's
