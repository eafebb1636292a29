"""The app with shipped models (pretrained/): it opens on the default model with its
precomputed results, the selector switches models, and uploads are validated (a bad file
gives an error and changes nothing; a good one is used, in this session only)."""

import json
import random

import pandas as pd
import pytest
import torch
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from tests.app_driver import ROOT, goto, heatmap_matrices, metric, open_app
from tests.shipped_support import BASE, BASE_PARAMS, oracle_rows
from explorer.store import checkpoints
from explorer.core.config import RunConfig, tiny
from explorer.core.train import accuracy_table, heldout_examples, new_model, train_model

FOLDER = ROOT / "pretrained"
pytestmark = pytest.mark.skipif(
    not (FOLDER / "results.csv").exists() or not list((FOLDER / "models").glob("relu-w16-l3-s0-*")),
    reason="pretrained/ not generated")
SHIPPED_NOTE = "Model ready (shipped checkpoint)"


def opened(**params) -> AppTest:
    """The app opened at the shipped table's default config (BASE) with these params."""
    at = open_app({**BASE_PARAMS, **params})
    assert not at.exception, at.exception
    return at


def csv_row(cfg: RunConfig, method: str) -> pd.Series:
    """The oracle: results.csv filtered on every config column with pandas."""
    rows = oracle_rows(pd.read_csv(FOLDER / "results.csv"), cfg)
    rows = rows[rows.method == method]
    assert len(rows) == 1
    return rows.iloc[0]


def shipped_accuracy(cfg: RunConfig) -> float:
    path = next((FOLDER / "models").glob(f"{cfg.model.activation}-w{cfg.model.width}-"
                                         f"l{cfg.model.layers}-s{cfg.seed}-*"))
    model, cfg, _ = checkpoints.load(path)
    return float(accuracy_table(model, heldout_examples(cfg)).accuracy.iloc[0])


def test_default_open_shows_the_shipped_model_and_its_precomputed_das():
    at = opened()
    assert any(SHIPPED_NOTE in s.value for s in at.success)
    assert at.button(key="train_button").label == "Train your own"
    assert not at.button(key="train_button").disabled  # training your own: one click
    assert at.selectbox(key="shipped_model").value.startswith("relu · width 16 · 3 layers")
    assert metric(at, "Held-out task accuracy") == f"{shipped_accuracy(RunConfig()):.3f}"
    assert at.get("vega_lite_chart")  # the accuracy bars, without pressing Train
    goto(at, "das")
    das, neuron = csv_row(BASE, "das"), csv_row(BASE, "neuron")
    assert metric(at, "Precomputed DAS IIA") == f"{das.iia:.3f}"
    assert metric(at, "Precomputed neuron-wise IIA") == f"{neuron.iia:.3f}"
    assert any("precomputed (pretrained/results.csv)" in h.value for h in at.subheader)
    spread = next(df.value for df in at.dataframe if "mean" in df.value.columns)
    assert spread.set_index("method").loc["das", "seeds"] >= 2
    assert not at.button(key="das_button").disabled  # the live run is still there


def test_selector_switches_the_model_and_follows_the_widgets():
    at = opened()
    labels = [o for o in at.selectbox(key="shipped_model").options if o.startswith("sigmoid")]
    if not labels:
        pytest.skip("no shipped sigmoid model yet")
    at.selectbox(key="shipped_model").set_value(labels[-1]).run()
    assert not at.exception
    seed = at.number_input(key="seed").value
    assert at.selectbox(key="activation").value == "sigmoid" and labels[-1].endswith(f" {seed}")
    width = at.slider(key="width").value  # the last sigmoid entry may be a width-32 model
    cfg = BASE.with_values(activation="sigmoid", seed=seed, width=width)
    assert metric(at, "Held-out task accuracy") == f"{shipped_accuracy(cfg):.3f}"
    goto(at, "das")
    assert metric(at, "Precomputed DAS IIA") == f"{csv_row(cfg, 'das').iia:.3f}"
    at.slider(key="width").set_value(12).run()  # no shipped model: the selector says so
    assert at.selectbox(key="shipped_model").value.startswith("—")
    assert at.button(key="train_button").label == "Train"
    assert metric(at, "Precomputed DAS IIA") is None


def overview(at: AppTest) -> pd.DataFrame | None:
    """The data of the precomputed per-site chart at the top of the Train page, if any."""
    for chart in at.get("vega_lite_chart"):
        layers = json.loads(chart.proto.spec).get("layer", [{}])
        if "IIA per site" in str(layers[0].get("title")):
            frames = [dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data)
                      for d in chart.proto.datasets]
            return next(f for f in frames if "site" in f.columns)
    return None


def test_the_train_page_opens_with_the_precomputed_iia_per_site():
    at = opened()
    shown = overview(at)
    expected = oracle_rows(pd.read_csv(FOLDER / "results.csv"), BASE, ignore=("site",))
    assert len(shown) == len(expected) >= 2
    names = {"das": "DAS", "neuron": "neuron-wise search"}
    assert sorted(zip(shown.site, shown.method, shown.iia)) == sorted(
        zip(expected.site, expected.method.map(names), expected.iia))
    assert overview(opened(seed="7")) is None  # no shipped model, no overview
    assert overview(goto(at, "das")) is None  # the Train page only


def _bad_files() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, a word the error must contain)."""
    cfg = RunConfig()
    good = checkpoints.to_bytes(new_model(cfg), cfg)
    narrow = RunConfig().with_values(width=8)
    wrong_shapes = checkpoints.to_bytes(new_model(narrow), cfg)  # claims width 16, holds 8
    return {"truncated.safetensors": (good[:len(good) // 2], "truncated"),
            "random.safetensors": (random.Random(0).randbytes(5000), "not a safetensors"),
            "shapes.safetensors": (wrong_shapes, "do not match"),
            "huge.safetensors": (b"\0" * (checkpoints.MAX_BYTES + 1), "limit"),
            "long.safetensors": (checkpoints.to_bytes(new_model(cfg), cfg.with_values(
                train_steps=60_000)), "outside the app's range")}


def test_bad_uploads_give_an_error_and_keep_the_model():
    at = goto(opened(), "das")
    shown = metric(at, "Precomputed DAS IIA")
    for name, (data, problem) in _bad_files().items():
        at.file_uploader(key="upload_checkpoint").set_value(
            (name, data, "application/octet-stream")).run()
        assert not at.exception, name
        errors = [e.value for e in at.error]
        assert any(name in e and problem in e for e in errors), (name, errors)
        assert any(SHIPPED_NOTE in s.value for s in at.success), name  # model kept
        assert at.slider(key="width").value == 16 and at.number_input(key="seed").value == 0
        assert metric(at, "Precomputed DAS IIA") == shown


def test_a_valid_upload_is_used_in_this_session():
    cfg = tiny(train_steps=200, seed=12, k=2)
    model, _ = train_model(cfg)
    expected = accuracy_table(model, heldout_examples(cfg)).accuracy.iloc[0]
    at = opened()
    at.file_uploader(key="upload_checkpoint").set_value(
        ("mine.safetensors", checkpoints.to_bytes(model, cfg), "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert any("Model ready (uploaded mine.safetensors)" in s.value for s in at.success)
    assert at.number_input(key="seed").value == 12
    assert at.number_input(key="train_steps").value == 200
    assert at.button(key="train_button").disabled
    assert metric(at, "Held-out task accuracy") == f"{expected:.3f}"
    assert opened(seed="12", train_steps="200", eval_size="1024").button(
        key="train_button").label == "Train"  # another session does not see the upload


def test_an_upload_with_the_default_config_replaces_the_shipped_model_here():
    cfg = BASE
    untrained = new_model(cfg).eval()
    expected = accuracy_table(untrained, heldout_examples(cfg)).accuracy.iloc[0]
    at = goto(opened(), "das")
    at.file_uploader(key="upload_checkpoint").set_value(
        ("untrained.safetensors", checkpoints.to_bytes(untrained, cfg), "")).run()
    assert not at.exception and not at.error
    assert metric(at, "Held-out task accuracy") == f"{expected:.3f}"
    assert metric(at, "Precomputed DAS IIA") is None  # they describe the shipped model
    assert any("not the uploaded one" in c.value for c in at.caption)
    # the selector and the Train page's overview agree with the model in use: not shipped
    assert at.selectbox(key="shipped_model").value.startswith("—")
    assert overview(goto(at, "train")) is None
    at.selectbox(key="shipped_model").set_value("relu · width 16 · 3 layers · seed 0").run()
    assert any(SHIPPED_NOTE in s.value for s in at.success)  # choosing it means the shipped one
    assert overview(at) is not None
    at.file_uploader(key="upload_checkpoint").set_value(
        ("untrained.safetensors", checkpoints.to_bytes(untrained, cfg), "")).run()
    assert at.selectbox(key="shipped_model").value.startswith("—")  # the upload again
    at.file_uploader(key="upload_checkpoint").set_value(None).run()  # removed: shipped again
    assert not at.exception
    assert at.selectbox(key="shipped_model").value.startswith("relu · width 16")
    assert overview(at) is not None
    assert metric(goto(at, "das"), "Precomputed DAS IIA") == f"{csv_row(cfg, 'das').iia:.3f}"


def test_a_stored_rotation_is_drawn_as_a_heatmap(monkeypatch, tmp_path):
    from safetensors.torch import save_file

    from explorer.store import shipped
    from explorer.core.identity import point_key

    gen = torch.Generator().manual_seed(1)
    rotation, _ = torch.linalg.qr(torch.randn(16, 16, generator=gen))
    save_file({point_key(BASE, "das"): rotation.contiguous()},
              tmp_path / "rotations.safetensors")
    lookup = shipped.rotation_for
    monkeypatch.setattr(shipped, "rotation_for", lambda cfg: lookup(cfg, tmp_path))
    at = goto(opened(), "das")
    heatmaps = heatmap_matrices(at)
    assert len(heatmaps) == 1  # the stored R (the live run's two come only after Run DAS)
    assert torch.equal(heatmaps[0][1], rotation)
