"""explorer.store.shipped and explorer.store.precomputed: the catalog of shipped checkpoints and the
lookups into results.csv and rotations.safetensors, checked against the files themselves,
the result keys (`core.identity.point_key`) and plain pandas filtering."""

import shutil

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from explorer.store import checkpoints, precomputed, shipped
from explorer.core.config import RunConfig
from explorer.core.identity import model_key, point_key
from explorer.core.train import new_model
from tests import shipped_support as support
from tests.shipped_support import BASE

FOLDER = precomputed.FOLDER
needs_models = pytest.mark.skipif(not list((FOLDER / "models").glob("*.safetensors")),
                                  reason="pretrained/models not generated")
needs_results = pytest.mark.skipif(not (FOLDER / "results.csv").exists(),
                                   reason="pretrained/results.csv not generated")
FLAT_FIELDS = list(RunConfig().to_flat())


def oracle_rows(cfg: RunConfig, ignore: tuple[str, ...] = ()) -> pd.DataFrame:
    """results.csv rows whose every config column equals cfg's (plain pandas)."""
    return support.oracle_rows(pd.read_csv(FOLDER / "results.csv"), cfg, ignore)


@needs_models
def test_every_shipped_checkpoint_loads_and_its_config_matches_its_file():
    files = sorted((FOLDER / "models").glob("*.safetensors"))
    items = shipped.catalog()
    assert sorted(item.path for item in items) == files  # none left out
    for item in items:
        model, cfg, meta = item.load()
        assert cfg == item.config
        m = cfg.model
        assert item.path.name == (f"{m.activation}-w{m.width}-l{m.layers}-s{cfg.seed}-"
                                  f"{model_key(cfg)}.safetensors")
        assert item.task_accuracy == meta["metrics"]["task_accuracy"]
        fresh = new_model(cfg)
        assert [p.shape for p in model.parameters()] == [p.shape for p in fresh.parameters()]


@needs_models
def test_a_matching_config_is_found_and_others_are_not():
    default = shipped.find(RunConfig())
    assert default is not None and default.path.name.startswith("relu-w16-l3-s0-")
    # alignment and evaluation settings do not change the model
    assert shipped.find(RunConfig().with_values(site=2, k=4, hypothesis="left")) == default
    assert shipped.find(RunConfig().with_values(eval_size=512)) == default
    seed_three = shipped.find(RunConfig().with_values(seed=3))
    assert seed_three is not None and seed_three.config.seed == 3
    for changed in (dict(width=12), dict(seed=99), dict(train_steps=300), dict(train_lr=0.01),
                    dict(entity_dim=3), dict(distribution="uniform")):
        assert shipped.find(RunConfig().with_values(**changed)) is None, changed


@needs_results
@pytest.mark.parametrize("values", [{}, dict(activation="sigmoid", seed=2, site=2, k=8,
                                             hypothesis="left"),
                                    dict(activation="relu", seed=4, site=0, k=1),
                                    dict(activation="relu", seed=4, site=0, k=1, width=12)])
def test_results_for_a_config_are_its_rows_in_the_csv(values):
    cfg = BASE.with_values(**values)
    got = precomputed.results_for(cfg)
    expected = oracle_rows(cfg)
    if "width" in values:  # not in the grid: nothing precomputed, the app computes it
        assert expected.empty and got.empty
        return
    assert len(expected) == 2  # one das and one neuron row for every grid point
    assert list(got.method) == ["das", "neuron"]
    assert set(got.key) == set(expected.key)
    assert set(got.key) <= {point_key(cfg, m) for m in ("das", "neuron")}
    merged = got.merge(expected, on="key", suffixes=("", "_oracle"))
    assert (merged.iia == merged.iia_oracle).all()
    assert (merged.task_accuracy == merged.task_accuracy_oracle).all()


@needs_results
def test_seed_spread_is_every_seed_of_the_same_config():
    cfg = BASE
    got = precomputed.seed_spread(cfg)
    expected = oracle_rows(cfg, ignore=("seed",))
    assert len(got) == len(expected) >= 2
    assert sorted(zip(got.seed, got.method, got.iia)) == sorted(
        zip(expected.seed, expected.method, expected.iia))
    summary = precomputed.spread_summary(got).set_index("method")
    by_method = expected.groupby("method").iia
    for method, mean in by_method.mean().items():
        assert summary.loc[method, "mean"] == pytest.approx(mean, abs=1e-12)
        assert summary.loc[method, "min"] == by_method.min()[method]
        assert summary.loc[method, "seeds"] == expected[expected.method == method].seed.nunique()


@needs_results
def test_site_profile_is_the_config_at_every_site():
    cfg = BASE.with_values(k=4, hypothesis="left")
    got = precomputed.site_profile(cfg)
    expected = oracle_rows(cfg, ignore=("site",))
    assert list(got.site) == sorted(got.site) and set(got.site) == set(expected.site)
    assert sorted(zip(got.site, got.method, got.iia)) == sorted(
        zip(expected.site, expected.method, expected.iia))
    keys = {point_key(cfg.with_values(site=site), m) for site in range(4)
            for m in ("das", "neuron")}
    assert set(got.key) <= keys


@needs_results
def test_controls_frame_carries_the_rows_numbers():
    rows = precomputed.results_for(BASE)
    das = oracle_rows(BASE).query("method == 'das'").iloc[0]
    frame = precomputed.controls_frame(rows).set_index("name")
    assert frame.loc["DAS (learned rotation)", "iia"] == das.iia
    assert frame.loc["closest signed permutation", "iia"] == das.closest_permutation_iia
    assert frame.loc["no intervention", "iia"] == das.no_intervention_baseline
    assert set(frame.kind) == {"alignment", "control", "baseline"}


def test_rotation_lookup_by_key(tmp_path):
    cfg = RunConfig().with_values(seed=2)
    q, _ = torch.linalg.qr(torch.randn(16, 16, generator=torch.Generator().manual_seed(0)))
    assert shipped.rotation_for(cfg, tmp_path) is None  # no file: nothing, no error
    save_file({point_key(cfg, "das"): q.contiguous()},
              tmp_path / "rotations.safetensors")
    rotation, var_mask = shipped.rotation_for(cfg, tmp_path)
    assert torch.equal(rotation, q)
    assert var_mask.shape == (2, 16) and var_mask.sum(1).tolist() == [8.0, 8.0]
    assert shipped.rotation_for(cfg.with_values(seed=3), tmp_path) is None
    (tmp_path / "rotations.safetensors").write_bytes(b"\x10\x00\x00\x00garbage")
    assert shipped.rotation_for(cfg, tmp_path) is None


@pytest.mark.skipif(not (FOLDER / "rotations.safetensors").exists(),
                    reason="pretrained/rotations.safetensors not written yet")
def test_shipped_rotation_is_orthogonal_and_matches_its_key():
    cfg = BASE
    rotation, _ = shipped.rotation_for(cfg)
    torch.testing.assert_close(rotation @ rotation.T, torch.eye(16), atol=1e-4, rtol=0)
    key = point_key(cfg, "das")
    assert key in set(oracle_rows(cfg).key)
    assert torch.equal(rotation, load_file(FOLDER / "rotations.safetensors")[key].float())


def test_a_missing_or_damaged_folder_gives_empty_answers(tmp_path):
    assert shipped.catalog(tmp_path) == () and shipped.find(RunConfig(), tmp_path) is None
    assert precomputed.results_for(RunConfig(), tmp_path).empty
    assert precomputed.seed_spread(RunConfig(), tmp_path).empty
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "broken.safetensors").write_bytes(b"not a checkpoint")
    assert shipped.catalog(tmp_path) == ()
    (tmp_path / "results.csv").write_bytes(b"key,method\n\xff\xfe,\"unterminated")
    assert precomputed.results_for(RunConfig(), tmp_path).empty


@needs_models
def test_a_damaged_file_is_left_out_of_the_catalog(tmp_path):
    (tmp_path / "models").mkdir()
    good = shipped.find(RunConfig()).path
    shutil.copy(good, tmp_path / "models" / good.name)
    data = good.read_bytes()
    (tmp_path / "models" / "truncated.safetensors").write_bytes(data[:20])
    items = shipped.catalog(tmp_path)
    assert [item.path.name for item in items] == [good.name]
    model, cfg, _ = items[0].load()
    assert cfg == checkpoints.load(good)[1]


def test_lookups_are_memoised_per_version_of_the_table_and_answer_copies(tmp_path, monkeypatch):
    """Each page run asks the same lookups again: the filtering runs once per config and
    version of results.csv, a caller changing its answer changes no later answer, and a
    rewritten file is read afresh."""
    import os

    def write(iias: list[float], mtime: float) -> None:
        rows = [{**RunConfig().with_values(seed=seed).to_flat(), "key": f"k{seed}",
                 "method": "das", "iia": iia} for seed, iia in enumerate(iias)]
        path = tmp_path / "results.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        os.utime(path, (mtime, mtime))

    calls, real = [], precomputed.matching
    monkeypatch.setattr(precomputed, "matching", lambda *a: calls.append(a) or real(*a))
    write([0.7, 0.8], 1_000_000)
    first = precomputed.results_for(RunConfig(), tmp_path)
    assert list(first.iia) == [0.7] and len(calls) == 1
    first.loc[:, "iia"] = 0.0  # the caller's copy
    assert list(precomputed.results_for(RunConfig(), tmp_path).iia) == [0.7] and len(calls) == 1
    assert list(precomputed.seed_spread(RunConfig(), tmp_path).iia) == [0.7, 0.8]
    assert len(calls) == 2  # another lookup, its own entry
    write([0.9, 0.8], 2_000_000)  # the table regenerated
    assert list(precomputed.results_for(RunConfig(), tmp_path).iia) == [0.9] and len(calls) == 3
