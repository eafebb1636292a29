"""Issue 12, checkpoints: every defining config field present, exact types and dtypes, one
error type (CheckpointError) whatever the header holds, the memory budget for uploads; and a
seeded fuzz of header mutations."""

import json

import pytest
import torch
from safetensors.torch import save as st_save

from explorer.core.config import ConfigError, RunConfig, validate
from explorer.core.models import MLP
from explorer.core.train import new_model
from explorer.store import checkpoints
from explorer.store.checkpoints import CheckpointError

CFG = RunConfig().with_values(activation="sigmoid", width=32, seed=2)
DEEP = "[" * 100_000 + "]" * 100_000


def valid(cfg: RunConfig = CFG) -> bytes:
    return checkpoints.to_bytes(new_model(cfg), cfg, {"task_accuracy": 0.9})


def split(data: bytes) -> tuple[dict, bytes]:
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]), data[8 + size:]


def join(header: dict | str, body: bytes) -> bytes:
    raw = (header if isinstance(header, str) else json.dumps(header)).encode()
    return len(raw).to_bytes(8, "little") + raw + body


def with_meta(change, data: bytes | None = None) -> bytes:
    """The valid file with its explorer metadata changed in place by change(meta)."""
    header, body = split(data or valid())
    meta = json.loads(header["__metadata__"]["explorer"])
    change(meta)
    header["__metadata__"]["explorer"] = json.dumps(meta)
    return join(header, body)


def rejects(data: bytes, *words: str) -> str:
    with pytest.raises(CheckpointError) as err:
        checkpoints.from_bytes(data)
    for word in words:
        assert word in str(err.value), str(err.value)
    return str(err.value)


def test_a_checkpoint_missing_a_defining_field_is_rejected_naming_it():
    rejects(with_meta(lambda m: m["config"].pop("activation")), "activation")
    message = rejects(with_meta(lambda m: m.update(config={})), "entity_dim", "width", "seed")
    assert "lacks" in message


def test_fields_outside_the_model_may_be_left_to_their_defaults():
    model, cfg, _ = checkpoints.from_bytes(with_meta(lambda m: m["config"].pop("restarts")))
    assert cfg.das.restarts == RunConfig().das.restarts and cfg.model == CFG.model


def test_unknown_config_fields_are_rejected():
    rejects(with_meta(lambda m: m["config"].update(colour="blue")), "unknown", "colour")


@pytest.mark.parametrize("version", [True, "1", 1.0, 2.0, 3, 0, None])
def test_schema_version_must_be_a_supported_integer(version):
    rejects(with_meta(lambda m: m.update(schema_version=version)), "schema_version")


def test_a_schema_1_file_with_the_old_site_name_loads_as_the_same_model():
    def old(meta):
        meta.update(schema_version=1)
        meta["config"]["layer"] = meta["config"].pop("site")
    _, new_cfg, _ = checkpoints.from_bytes(valid())
    _, old_cfg, _ = checkpoints.from_bytes(with_meta(old))
    assert old_cfg == new_cfg
    rejects(with_meta(lambda m: m["config"].update(layer=m["config"]["site"] + 1)), "site")


@pytest.mark.parametrize("name, value", [("width", "32"), ("width", 32.0), ("width", True),
                                         ("activation", 5), ("das_lr", "0.01"),
                                         ("das_lr", False), ("seed", None)])
def test_config_values_must_have_their_exact_json_type(name, value):
    rejects(with_meta(lambda m: m["config"].update({name: value})), name)


@pytest.mark.parametrize("dtype", [torch.bool, torch.int64, torch.uint8, torch.float16,
                                   torch.float64, torch.bfloat16])
def test_tensors_of_another_dtype_are_rejected_naming_tensor_and_dtype(dtype):
    state = {k: v.to(dtype) for k, v in new_model(CFG).state_dict().items()}
    header, _ = split(valid())
    data = st_save(state, metadata=header["__metadata__"])
    wrong = split(data)[0]["hidden_layers.0.weight"]["dtype"]
    rejects(data, "hidden_layers.0.weight", wrong, "F32")


@pytest.mark.parametrize("dtype", ["F8_E4M3", "F8_E5M2", "F4", "nonsense"])
def test_exotic_dtypes_raise_checkpoint_error(dtype):
    header, body = split(valid())
    header["readout.bias"]["dtype"] = dtype
    rejects(join(header, body), "readout.bias")


@pytest.mark.parametrize("change", [
    lambda h, m: "[1, 2, 3]",  # header not an object
    lambda h, m: h.update(__metadata__=["explorer"]),
    lambda h, m: h["__metadata__"].update(explorer=5),
    lambda h, m: h["__metadata__"].update(explorer="[1]"),
    lambda h, m: h["__metadata__"].update(explorer=DEEP),
    lambda h, m: DEEP,
    lambda h, m: h["__metadata__"].update(explorer='{"schema_version": NaN}'),
    lambda h, m: h["__metadata__"].update(explorer=json.dumps({**m, "config": [1]})),
    lambda h, m: h["__metadata__"].update(explorer=json.dumps({**m, "metrics": [1]})),
    lambda h, m: h["__metadata__"].update(
        explorer=json.dumps({**m, "metrics": {"task_accuracy": "high"}})),
    lambda h, m: h.update({"readout.bias": "F32"}),
    lambda h, m: h.update({"readout.bias": {"dtype": "F32"}}),
    lambda h, m: h.pop("readout.bias"),
    lambda h, m: h.update({"extra": h["readout.bias"]}),
    lambda h, m: h["readout.bias"].update(shape=[2]),
    lambda h, m: h["readout.bias"].update(data_offsets=[0, 10**12]),
    lambda h, m: h["readout.bias"].update(data_offsets="x"),
    lambda h, m: h["__metadata__"].update(explorer=json.dumps(  # a 5,000-digit width
        {**m, "config": {**m["config"], "width": 123454321}}).replace("123454321", "9" * 5000)),
])
def test_malformed_headers_raise_only_checkpoint_error(change):
    header, body = split(valid())
    meta = json.loads(header["__metadata__"]["explorer"])
    out = change(header, meta)
    rejects(join(out if isinstance(out, str) else header, body))


def test_a_small_file_cannot_ask_for_more_memory_than_a_run_may_use():
    huge = RunConfig().with_values(eval_size=1_000_000, entity_dim=32, width=128)
    with pytest.raises(ConfigError) as err:
        validate(huge)
    tiny_file = with_meta(lambda m: m["config"].update(huge.to_flat()),
                          valid(huge.with_values(eval_size=4096)))
    assert len(tiny_file) < 300_000
    rejects(tiny_file, err.value.field, "budget")


def test_the_vocabulary_upload_of_the_issue_now_loads_and_scores_cheaply():
    from explorer.core.train import accuracy_table, heldout_examples
    cfg = CFG.with_values(vocab_size=100_000, eval_size=100_000)
    model, loaded, _ = checkpoints.from_bytes(valid(cfg))
    table = accuracy_table(model, heldout_examples(loaded))
    assert table.n.iloc[0] == 100_000


MUTATIONS = ("delete", "replace", "add", "dtype", "shape", "offsets", "bytes", "length")
ODD = [None, True, False, 0, -1, 1, 2**63, 1.5, -0.0, "", "x", "F16", [], {}, [1, 2],
       {"a": 1}, "nan", 10**30, "1" * 5000]


def _pick(gen: torch.Generator, items):
    items = list(items)
    return items[int(torch.randint(len(items), (1,), generator=gen))]


def _mutate(gen: torch.Generator, data: bytes) -> bytes:
    header, body = split(data)
    meta = json.loads(header["__metadata__"]["explorer"])
    kind = _pick(gen, MUTATIONS)
    target = _pick(gen, [header, meta, meta["config"], meta["metrics"],
                         header[_pick(gen, [k for k in header if k != "__metadata__"])]])
    if kind == "delete" and target:
        target.pop(_pick(gen, target))
    elif kind == "replace" and target:
        target[_pick(gen, target)] = _pick(gen, ODD)
    elif kind == "add":
        target[_pick(gen, ["zz", "layer", "config", "dtype", "__metadata__"])] = _pick(gen, ODD)
    elif kind in ("dtype", "shape", "offsets"):
        entry = header[_pick(gen, [k for k in header if k != "__metadata__"])]
        if kind == "dtype":
            entry["dtype"] = _pick(gen, ["F16", "BF16", "F64", "I64", "I32", "I8", "U8", "BOOL",
                                         "F8_E4M3", "F8_E5M2", "f32", "F32"])
        elif kind == "shape":
            entry["shape"] = _pick(gen, [[], [1], entry["shape"] + [1], entry["shape"][::-1],
                                         [-1] * len(entry["shape"]), ["2"]])
        else:
            a, b = entry["data_offsets"]
            entry["data_offsets"] = _pick(gen, [[b, a], [a, b + 4], [a + 1, b], [0, 0], [a]])
    header["__metadata__"]["explorer"] = json.dumps(meta)
    out = join(header, body)
    if kind == "bytes":
        raw = bytearray(out)
        for _ in range(int(torch.randint(1, 6, (1,), generator=gen))):
            at = 8 + int(torch.randint(len(out) - 8 - len(body), (1,), generator=gen))
            raw[at] = int(torch.randint(256, (1,), generator=gen))
        out = bytes(raw)
    elif kind == "length":
        size = int.from_bytes(out[:8], "little") + int(torch.randint(-3, 4, (1,), generator=gen))
        out = max(size, 0).to_bytes(8, "little") + out[8:]
    return out


def test_fuzzed_headers_load_or_raise_checkpoint_error_only():
    gen = torch.Generator().manual_seed(12)
    base, x = valid(), torch.randn(5, CFG.input_dim)
    outcomes = {"loaded": 0, "rejected": 0}
    for _ in range(400):
        data = base
        for _ in range(int(torch.randint(1, 4, (1,), generator=gen))):
            try:
                data = _mutate(gen, data)
            except (ValueError, KeyError, TypeError, AttributeError, IndexError):
                break  # the previous mutation left a header this mutator cannot walk
        try:
            model, cfg, meta = checkpoints.from_bytes(data)
        except CheckpointError as err:
            assert str(err) and len(str(err)) < 1000
            outcomes["rejected"] += 1
            continue
        assert isinstance(model, MLP) and validate(cfg) is cfg
        assert torch.isfinite(model(torch.randn(5, cfg.input_dim))).all()
        outcomes["loaded"] += 1
    assert outcomes["rejected"] > 250 and x.shape == (5, 16)
