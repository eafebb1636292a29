import json

import pytest
import torch

from explorer.store import checkpoints
from explorer.store.checkpoints import CheckpointError
from explorer.core.config import RunConfig
from explorer.core.train import new_model


def _bytes(cfg=None):
    cfg = cfg or RunConfig().with_values(width=8, k=4, seed=3)
    return cfg, new_model(cfg), checkpoints.to_bytes(new_model(cfg), cfg, {"task_accuracy": 0.5})


def test_round_trip_gives_the_same_function_and_metadata(tmp_path):
    cfg, model, data = _bytes()
    path = tmp_path / "m.safetensors"
    path.write_bytes(data)
    loaded, cfg2, meta = checkpoints.load(path)
    assert cfg2 == cfg and meta["metrics"] == {"task_accuracy": 0.5}
    x = torch.randn(10, 16)
    assert torch.equal(loaded(x), model(x))


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b[:50], "truncated"),
    (lambda b: b[:-7], "corrupted"),
    (lambda b: b"PK\x03\x04 definitely a zip" * 4, "not a safetensors"),
    (lambda b: b"\x80\x04\x95" + b"\x00" * 40, "not a safetensors"),  # a pickle's opening
])
def test_broken_files_raise_a_clear_error(mutate, message):
    _, _, data = _bytes()
    with pytest.raises(CheckpointError, match=message):
        checkpoints.from_bytes(mutate(data))


def test_metadata_and_shapes_are_validated():
    cfg, model, data = _bytes()
    lying = checkpoints.to_bytes(model, cfg)
    header_len = int.from_bytes(lying[:8], "little")
    header = json.loads(lying[8:8 + header_len])
    meta = json.loads(header["__metadata__"]["explorer"])
    meta["config"]["width"] = 9
    header["__metadata__"]["explorer"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    raw += b" " * (header_len - len(raw)) if len(raw) < header_len else b""
    forged = len(raw).to_bytes(8, "little") + raw + lying[8 + header_len:]
    with pytest.raises(CheckpointError, match="do not match"):
        checkpoints.from_bytes(forged)
    meta["config"]["width"] = 500
    header["__metadata__"]["explorer"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    forged = len(raw).to_bytes(8, "little") + raw + lying[8 + header_len:]
    with pytest.raises(CheckpointError, match="width"):
        checkpoints.from_bytes(forged)


def test_no_loader_can_unpickle():
    import ast
    import pathlib
    modules = list(pathlib.Path(__file__).resolve().parents[2].joinpath("explorer").rglob("*.py"))
    assert len(modules) > 30  # the glob found the package
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "load":
                owner = getattr(node.value, "id", "")
                assert owner not in ("torch", "pickle", "dill", "joblib"), (path, owner)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                assert not any(n.split(".")[0] in ("pickle", "dill", "joblib") for n in names), path
                if getattr(node, "module", "") == "torch":
                    assert "load" not in [a.name for a in node.names], path


def _with_meta(data: bytes, edit) -> bytes:
    """The checkpoint with its explorer metadata edited by `edit(meta)`."""
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + header_len])
    meta = json.loads(header["__metadata__"]["explorer"])
    edit(meta)
    header["__metadata__"]["explorer"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data[8 + header_len:]


def test_a_checkpoint_of_an_earlier_recipe_loads_with_that_recipe_written_out():
    """A ReLU checkpoint written before recipes had versions was trained with version 1
    (2,500 steps at lr 3e-3): its loaded config says so, so it is not taken for a model of
    today's recipe (its keys differ). Today's file loads as it was saved."""
    from explorer.core.recipes import EARLIER_RECIPES, RECIPES
    from explorer.core.identity import model_key
    cfg, _, data = _bytes()
    assert RECIPES["relu"].version > 1
    assert checkpoints.read_metadata(data)["recipe"] == RECIPES["relu"].version
    assert checkpoints.from_bytes(data)[1] == cfg
    old = _with_meta(data, lambda meta: meta.pop("recipe"))
    loaded = checkpoints.from_bytes(old)[1]
    assert (loaded.train.train_steps, loaded.train.train_lr) == (
        EARLIER_RECIPES["relu", 1].steps, EARLIER_RECIPES["relu", 1].lr)
    assert model_key(loaded) != model_key(cfg)
    with pytest.raises(CheckpointError, match="recipe version 9"):
        checkpoints.from_bytes(_with_meta(data, lambda meta: meta.update(recipe=9)))
    sigmoid = RunConfig().with_values(activation="sigmoid", width=8, k=4)
    _, _, data = _bytes(sigmoid)  # no earlier recipe: as it was saved, with or without it
    assert checkpoints.from_bytes(_with_meta(data, lambda meta: meta.pop("recipe")))[1] == sigmoid
