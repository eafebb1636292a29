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

from explorer.core.values import ConfigError, coerce, cut, echo  # noqa: F401  (re-exported)

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu", "leaky_relu")
DISTRIBUTIONS = ("gaussian", "uniform")
HYPOTHESIS_NAMES = ("both", "left", "identity", "output")
MAPS = ("orthogonal", "linear", "revnet")  # revnet: a non-linear invertible map
MAP_WIDTHS = (1, 64)  # the RevNet map's hidden width h (the complexity dial): allowed range
REVNET_BLOCKS = 2  # coupling blocks of the RevNet map (explorer.methods.revnet)
# The RevNet map's own DAS budget where it differs from the orthogonal map's defaults: what
# `run --map revnet` uses for the fields not given, and the complexity dial's budget
# (explorer.analysis.complexity.DialSettings) for every map. With the 2,000-step cap and
# patience 200 every dial fit converged (benchmarks/dial_budget.py); half the pairs and two
# restarts halve the cost of a RevNet step, which is several times a rotation's.
REVNET_BUDGET = {"restarts": 2, "das_batch_size": 128, "n_train_pairs": 2048,
                 "n_val_pairs": 512, "n_test_pairs": 1024}
INITS = ("random", "identity", "neuron")


SCHEMA_VERSION = 2  # of the flat names; version 1 called the site `layer`
RENAMED = {"layer": "site"}  # old flat name -> current name (old links, flags, CSVs, files)


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
    map: str = "orthogonal"  # orthogonal rotation, a general invertible linear map, or revnet
    map_width: int = 8  # hidden width h of the RevNet map's couplings (map = revnet only)
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
            raise ConfigError(cut(unknown[0]), f"unknown setting; known: {', '.join(types)}")
        coerced = {name: coerce(name, value, types[name]) for name, value in values.items()}
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
        raise ConfigError(name, f"must be between {low} and {high} (got {echo(value)})")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)} (got {echo(value)})")


def validate(cfg: RunConfig, *, budget: int | None = None) -> RunConfig:
    """Return cfg unchanged, or raise ConfigError for the first bad field; last, the run's
    estimated memory must fit `budget` bytes (MEMORY_BUDGET by default; `check_memory`)."""
    t, m, tr, d, n = cfg.task, cfg.model, cfg.train, cfg.das, cfg.neuron
    _check_range("entity_dim", t.entity_dim, 1, 32)
    _check_choice("distribution", t.distribution, DISTRIBUTIONS)
    if t.vocab_size != 0 and not 16 <= t.vocab_size <= 100_000:
        raise ConfigError("vocab_size", "must be 0 (fresh entities per example) or between 16 "
                          f"and 100000 (got {echo(t.vocab_size)})")
    _check_choice("activation", m.activation, ACTIVATIONS)
    _check_range("width", m.width, 2, 128)
    _check_range("layers", m.layers, 1, 4)
    _check_range("train_steps", tr.train_steps, 0, 200_000)
    _check_range("train_lr", tr.train_lr, 0.0, 1.0)
    _check_range("train_batch_size", tr.train_batch_size, 8, 65_536)
    _check_range("eval_size", tr.eval_size, 64, 1_000_000)
    _check_range("site", d.site, 0, m.layers)
    _check_choice("hypothesis", d.hypothesis, HYPOTHESIS_NAMES)
    _check_choice("map", d.map, MAPS)
    _check_range("map_width", d.map_width, *MAP_WIDTHS)
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
    check_memory(cfg, budget=MEMORY_BUDGET if budget is None else budget)
    return cfg


MEMORY_BUDGET = 2 * 2**30  # bytes: the most a run's estimated tensors may take (README)
FLOAT = 4  # bytes


RUNTIME = 256 * 2**20  # bytes torch and the pipeline take whatever the config (measured ~180)


def memory_terms(cfg: RunConfig) -> list[tuple[str, str | None, float]]:
    """(phase, the count field that scales it, bytes): an upper estimate of what each phase
    of a run holds (`explorer.methods.experiment.run`, the app's pages, a sweep point),
    summed over phases although some never overlap. Site dims are taken at the larger of
    input and hidden width, whatever the site. A rotation applied to n pairs' sources
    costs n x d x d floats per restart: torch's matmul broadcasting copies the rotation
    per pair (interventions.interchange), which dominates wide DAS runs."""
    m, tr, d, n = cfg.model, cfg.train, cfg.das, cfg.neuron
    d0, w, depth = cfg.input_dim, m.width, m.layers
    site, v = max(d0, w), n_variables(d.hypothesis)
    states = 1 + v  # base and one source per variable
    pairs = states * (site + 2 * d0 + 2 * w)  # per pair: stored states, transient inputs
    rotated = site * site + 3 * states * site + 2 * w  # per pair and rotation evaluated
    if d.map == "revnet":  # each coupling block's hidden layer and halves, forward and back
        rotated += REVNET_BLOCKS * 2 * states * (d.map_width + 3 * site)
    terms = [
        ("torch runtime", None, RUNTIME / FLOAT),
        ("held-out examples", "eval_size", tr.eval_size * (4 * d0 + 3 * w + 16)),
        ("training batch", "train_batch_size", tr.train_batch_size * (4 * d0 + 4 * depth * w)),
        ("DAS training pairs", "n_train_pairs", d.n_train_pairs * pairs),
        ("DAS validation pairs", "n_val_pairs", d.n_val_pairs * (pairs + d.restarts * rotated)),
        ("DAS test pairs", "n_test_pairs", d.n_test_pairs * (pairs + (d.restarts + 1) * rotated)),
        ("DAS batch", "das_batch_size",
         d.das_batch_size * d.restarts * 2 * (rotated + 2 * depth * w)),
        ("neuron-wise search pairs", "n_search_pairs",
         n.n_search_pairs * (v * pairs + 8 * site + 2 * w)),
        ("exhaustive subsets", "max_exhaustive",
         _exhaustive_subsets(cfg) * (site + (v + 1) * (30 + 4 * d.k))),
    ]
    return [(phase, name, FLOAT * floats) for phase, name, floats in terms]


def _exhaustive_subsets(cfg: RunConfig) -> int:
    """The most unit subsets an exhaustive neuron-wise search enumerates, at either kind of
    site (input or hidden): C(d, k) where that is at most max_exhaustive, else 0 (greedy)."""
    counts = [math.comb(dim, cfg.das.k) for dim in (cfg.input_dim, cfg.model.width)]
    return max([c for c in counts if c <= cfg.neuron.max_exhaustive], default=0)


def memory_estimate(cfg: RunConfig) -> float:
    """Estimated bytes of a run's tensors (the sum of `memory_terms`)."""
    return sum(size for _, _, size in memory_terms(cfg))


def check_memory(cfg: RunConfig, *, budget: int = MEMORY_BUDGET) -> None:
    """ConfigError naming the field behind the largest part when the estimate is over budget,
    with the value that field could have here (when lowering it alone can help)."""
    terms = memory_terms(cfg)
    total = sum(size for _, _, size in terms)
    if total <= budget:
        return
    phase, name, _ = max((term for term in terms if term[1]), key=lambda term: term[2])
    mine = sum(size for _, field_name, size in terms if field_name == name)
    value = cfg.to_flat()[name]
    room = budget - (total - mine)
    if name == "max_exhaustive":  # below C(d, k) the search turns greedy and enumerates none
        hint = f"below {_exhaustive_subsets(cfg):,} the search is greedy and needs far less"
    elif room > 0:
        hint = f"at most about {int(value * room / mine):,} with the other settings as they are"
    else:
        hint = "lower it together with width, entity_dim or restarts"
    raise ConfigError(name, f"with these settings a run needs about {_gib(total)} of memory, "
                            f"over the {_gib(budget)} budget ({phase}: {_gib(mine)}); "
                            f"{name} = {value:,}: {hint}")


def _gib(size: float) -> str:
    return f"{size / 2**30:.2f} GiB" if size < 2**30 * 10 else f"{size / 2**30:,.0f} GiB"


def tiny(**values: Any) -> RunConfig:
    """A small preset for tests: cheap budgets, default shapes."""
    small = dict(train_steps=400, eval_size=1024, das_steps=150, restarts=2,
                 n_train_pairs=1024, n_val_pairs=256, n_test_pairs=512, n_search_pairs=256)
    small.update(values)
    return RunConfig().with_values(**small)
