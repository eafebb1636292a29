"""Configuration: one frozen dataclass per concern, grouped in `RunConfig`.

Every field name is unique across the groups, so a whole run flattens to one namespace
(`RunConfig.to_flat()` / `RunConfig.from_flat()`): the command line's kebab-case flags, the
app's URL query parameters and the JSON report all use these names.

`validate()` raises `ConfigError(field, message)` naming the field and its allowed values.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, get_type_hints

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu", "leaky_relu")
DISTRIBUTIONS = ("gaussian", "uniform")
HYPOTHESES = ("both", "left", "identity")
MAPS = ("orthogonal", "linear")
INITS = ("random", "identity", "neuron")


SCHEMA_VERSION = 2  # of the flat names; version 1 called the site `layer`
RENAMED = {"layer": "site"}  # old flat name -> current name (old links, flags, CSVs, files)


class ConfigError(ValueError):
    """An invalid setting: `field` is the flat field name, `message` says what is allowed."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class TaskConfig:
    entity_dim: int = 4  # dims per entity; the input has 4 * entity_dim dims
    distribution: str = "gaussian"  # entity distribution: gaussian N(0, 1) or uniform [-1, 1]
    vocab_size: int = 0  # 0: fresh entities per example; else a finite vocabulary, split in two


@dataclass(frozen=True)
class ModelConfig:
    activation: str = "relu"
    width: int = 16
    layers: int = 3


@dataclass(frozen=True)
class TrainConfig:
    train_steps: int = 0  # 0: the activation's recipe
    train_lr: float = 0.0  # 0: the activation's recipe
    train_batch_size: int = 1024
    eval_size: int = 4096  # held-out examples for task accuracy


@dataclass(frozen=True)
class DASConfig:
    site: int = 1  # where to intervene: 0 = input, 1.. = the output of hidden layer 1..
    k: int = 8  # rotated dims per high-level variable
    hypothesis: str = "both"
    map: str = "orthogonal"  # orthogonal rotation, or a general invertible linear map
    restarts: int = 3
    das_init: str = "neuron"  # restart 0 starts at the neuron-wise answer, the identity, or random
    das_steps: int = 2000  # the cap: training stops earlier once das_patience steps bring no gain
    das_patience: int = 200  # steps without a gain in any restart's validation IIA: converged
    das_lr: float = 0.01
    das_batch_size: int = 256
    n_train_pairs: int = 4096
    n_val_pairs: int = 1024
    n_test_pairs: int = 2048


@dataclass(frozen=True)
class NeuronConfig:
    max_exhaustive: int = 20_000  # subsets per variable scored exhaustively; greedy beyond
    n_search_pairs: int = 512  # pairs per variable used to rank subsets (test pairs are separate)


@dataclass(frozen=True)
class RunConfig:
    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    das: DASConfig = field(default_factory=DASConfig)
    neuron: NeuronConfig = field(default_factory=NeuronConfig)
    seed: int = 0

    @property
    def input_dim(self) -> int:
        return 4 * self.task.entity_dim

    def site_dim(self, site: int) -> int:
        return self.input_dim if site == 0 else self.model.width

    def to_flat(self) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for group in GROUPS:
            flat.update(dataclasses.asdict(getattr(self, group)))
        flat["seed"] = self.seed
        return flat

    @classmethod
    def from_flat(cls, values: dict[str, Any]) -> "RunConfig":
        """Build from flat names (old names upgraded, unknown ones rejected); strings are
        coerced to field types."""
        values, types = upgrade(values), flat_field_types()
        unknown = sorted(set(values) - set(types))
        if unknown:
            raise ConfigError(unknown[0], f"unknown setting; known: {', '.join(types)}")
        coerced = {name: _coerce(name, value, types[name]) for name, value in values.items()}
        return cls().with_values(**coerced)

    def with_values(self, **values: Any) -> "RunConfig":
        """A copy with some flat fields changed (old names upgraded)."""
        values, out = upgrade(values), self
        for group in GROUPS:
            sub = getattr(self, group)
            mine = {k: v for k, v in values.items() if k in {f.name for f in fields(sub)}}
            if mine:
                out = replace(out, **{group: replace(sub, **mine)})
        if "seed" in values:
            out = replace(out, seed=values["seed"])
        return out


GROUPS = ("task", "model", "train", "das", "neuron")


def flat_field_types() -> dict[str, type]:
    types: dict[str, type] = {}
    for group, cls in zip(GROUPS, (TaskConfig, ModelConfig, TrainConfig, DASConfig, NeuronConfig)):
        types.update(get_type_hints(cls))
    types["seed"] = int
    return types


def _coerce(name: str, value: Any, kind: type) -> Any:
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    try:
        if kind is int:
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"expected {kind.__name__}, got {value!r}") from None


def upgrade(flat: dict[str, Any]) -> dict[str, Any]:
    """A copy of `flat` with old names replaced by current ones; both at once is an error."""
    out = dict(flat)
    for old, new in RENAMED.items():
        if old in out:
            if new in out and out[new] != out[old]:
                raise ConfigError(new, f"given twice, as {new!r} and by its old name {old!r}")
            out[new] = out.pop(old)
    return out


def n_variables(hypothesis: str) -> int:
    return 2 if hypothesis == "both" else 1


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high} (got {value})")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)} (got {value!r})")


def validate(cfg: RunConfig) -> RunConfig:
    """Return cfg unchanged, or raise ConfigError for the first bad field."""
    t, m, tr, d, n = cfg.task, cfg.model, cfg.train, cfg.das, cfg.neuron
    _check_range("entity_dim", t.entity_dim, 1, 32)
    _check_choice("distribution", t.distribution, DISTRIBUTIONS)
    if t.vocab_size != 0:
        _check_range("vocab_size", t.vocab_size, 16, 100_000)
    _check_choice("activation", m.activation, ACTIVATIONS)
    _check_range("width", m.width, 2, 128)
    _check_range("layers", m.layers, 1, 4)
    _check_range("train_steps", tr.train_steps, 0, 200_000)
    _check_range("train_lr", tr.train_lr, 0.0, 1.0)
    _check_range("train_batch_size", tr.train_batch_size, 8, 65_536)
    _check_range("eval_size", tr.eval_size, 64, 1_000_000)
    _check_range("site", d.site, 0, m.layers)
    _check_choice("hypothesis", d.hypothesis, HYPOTHESES)
    _check_choice("map", d.map, MAPS)
    max_k = cfg.site_dim(d.site) // n_variables(d.hypothesis)
    _check_range("k", d.k, 1, max_k)
    _check_range("restarts", d.restarts, 1, 32)
    _check_choice("das_init", d.das_init, INITS)
    _check_range("das_steps", d.das_steps, 1, 100_000)
    _check_range("das_patience", d.das_patience, 1, 100_000)
    if not (0.0 < d.das_lr <= 1.0) or math.isnan(d.das_lr):
        raise ConfigError("das_lr", f"must be in (0, 1] (got {d.das_lr})")
    _check_range("das_batch_size", d.das_batch_size, 8, 65_536)
    for name in ("n_train_pairs", "n_val_pairs", "n_test_pairs"):
        _check_range(name, getattr(d, name), 64, 1_000_000)
    _check_range("max_exhaustive", n.max_exhaustive, 1, 1_000_000)
    _check_range("n_search_pairs", n.n_search_pairs, 64, 100_000)
    _check_range("seed", cfg.seed, 0, 2**31 - 1)
    return cfg


def tiny(**values: Any) -> RunConfig:
    """A small preset for tests: cheap budgets, default shapes."""
    small = dict(train_steps=400, eval_size=1024, das_steps=150, restarts=2,
                 n_train_pairs=1024, n_val_pairs=256, n_test_pairs=512, n_search_pairs=256)
    small.update(values)
    return RunConfig().with_values(**small)
