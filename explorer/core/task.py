"""Hierarchical equality data: factual examples and counterfactual pairs, vectorized.

An example is four entities a, b, c, d concatenated (n, 4 * entity_dim). Its pattern is
one of ABCD, AABB, AACD, ABCC (letters name distinct entities), drawn exactly balanced so
each equality holds in half of the examples. Labels come from `explorer.core.causal`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.core.config import TaskConfig

PATTERNS = ("ABCD", "AABB", "AACD", "ABCC")
PATTERN_V1 = torch.tensor([False, True, True, False])  # a == b
PATTERN_V2 = torch.tensor([False, True, False, True])  # c == d
INTERVENTION_TYPES = {1: ("V1",), 2: ("V1", "V2", "both")}


@dataclass(frozen=True)
class Entities:
    """Where entities come from: fresh draws, or a finite vocabulary split train/test."""

    task: TaskConfig
    vocab: torch.Tensor | None = None  # (vocab_size, entity_dim); first half train, second test

    @classmethod
    def build(cls, task: TaskConfig, gen: torch.Generator) -> "Entities":
        if task.vocab_size == 0:
            return cls(task)
        return cls(task, _draw(task, task.vocab_size, gen))

    def sample(self, n: int, count: int, split: str, gen: torch.Generator) -> torch.Tensor:
        """`count` distinct entities for each of n examples: (n, count, entity_dim)."""
        if self.vocab is None:
            return _draw(self.task, n * count, gen).view(n, count, -1)
        half = self.vocab.shape[0] // 2
        pool = self.vocab[:half] if split == "train" else self.vocab[half:]
        return pool[distinct_indices(n, count, pool.shape[0], gen)]


def distinct_indices(n: int, count: int, size: int, gen: torch.Generator) -> torch.Tensor:
    """For each of n rows, `count` distinct indices into range(size), uniform over ordered
    draws without replacement: (n, count) int64, in O(n * count) memory.

    Draw i picks the j-th of the size - i indices not taken yet: j is uniform, then raised
    past every taken index at or below it (taken in increasing order)."""
    taken = torch.empty(n, 0, dtype=torch.long)
    for i in range(count):
        j = torch.randint(size - i, (n,), generator=gen)
        for t in taken.sort(dim=1).values.unbind(1):
            j = j + (j >= t)
        taken = torch.cat([taken, j[:, None]], dim=1)
    return taken


def _draw(task: TaskConfig, n: int, gen: torch.Generator) -> torch.Tensor:
    if task.distribution == "uniform":
        return torch.rand(n, task.entity_dim, generator=gen) * 2 - 1
    return torch.randn(n, task.entity_dim, generator=gen)


def balanced(n: int, classes: int, gen: torch.Generator) -> torch.Tensor:
    """n class indices, each class as often as n allows, in random order: (n,)."""
    return (torch.arange(n) % classes)[torch.randperm(n, generator=gen)]


@dataclass(frozen=True)
class Examples:
    x: torch.Tensor  # (n, 4 * entity_dim)
    pattern: torch.Tensor  # (n,) index into PATTERNS

    @property
    def v1(self) -> torch.Tensor:
        return PATTERN_V1[self.pattern]

    @property
    def v2(self) -> torch.Tensor:
        return PATTERN_V2[self.pattern]

    @property
    def y(self) -> torch.Tensor:
        return self.v1 == self.v2


def compose(entities: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
    """Lay four distinct entities (n, 4, D) out as a, b, c, d by pattern: (n, 4D)."""
    e1, e2, e3, e4 = entities.unbind(1)
    b = torch.where(PATTERN_V1[pattern, None], e1, e2)
    d = torch.where(PATTERN_V2[pattern, None], e3, e4)
    return torch.cat([e1, b, e3, d], dim=1)


def sample_examples(n: int, entities: Entities, split: str, gen: torch.Generator,
                    pattern: torch.Tensor | None = None) -> Examples:
    """n examples, patterns balanced unless given."""
    pattern = balanced(n, len(PATTERNS), gen) if pattern is None else pattern
    return Examples(compose(entities.sample(n, 4, split, gen), pattern), pattern)


@dataclass(frozen=True)
class Pairs:
    """Counterfactual pairs: a base, one source per high-level variable, and which are swapped."""

    base: Examples
    sources: torch.Tensor  # (n, n_vars, 4D)
    intervened: torch.Tensor  # (n, n_vars) bool
    kind: torch.Tensor  # (n,) index into INTERVENTION_TYPES[n_vars]

    def __len__(self) -> int:
        return self.base.x.shape[0]

    @property
    def n_vars(self) -> int:
        return self.sources.shape[1]

    @property
    def type_names(self) -> tuple[str, ...]:
        return INTERVENTION_TYPES[self.n_vars]

    def subset(self, index: torch.Tensor) -> "Pairs":
        base = Examples(self.base.x[index], self.base.pattern[index])
        return Pairs(base, self.sources[index], self.intervened[index], self.kind[index])


def sample_pairs(n: int, n_vars: int, entities: Entities, split: str, gen: torch.Generator,
                 only: str | None = None, identity: bool = False) -> Pairs:
    """Balanced pairs: base and each source patterns balanced; intervention types one each.

    With two variables the types are V1 only, V2 only and both, a third each; `only`
    restricts every pair to one type (used by the neuron-wise search to score one variable).
    `identity` balances pairs for the Identity of First Argument hypothesis: in half of the
    pairs the source's a is the base's b, so the swapped value matters half of the time
    (with fresh entities it would otherwise never equal b, and every label would be fixed).
    """
    base = sample_examples(n, entities, split, gen)
    sources = torch.stack(
        [sample_examples(n, entities, split, gen).x for _ in range(n_vars)], dim=1)
    if identity:
        sources[:, 0] = first_matches_base_b(sources[:, 0], base.x, balanced(n, 2, gen).bool())
    types = INTERVENTION_TYPES[n_vars]
    kind = (torch.full((n,), types.index(only)) if only else balanced(n, len(types), gen))
    table = torch.tensor([[name in (var, "both") for var in types[:n_vars]] for name in types])
    return Pairs(base, sources, table[kind], kind)


def first_matches_base_b(source: torch.Tensor, base: torch.Tensor,
                          where: torch.Tensor) -> torch.Tensor:
    """Set the source's a (and its b, where a == b) to the base's b on the rows `where`."""
    a, b, c, d = source.unflatten(-1, (4, -1)).unbind(-2)
    base_b = base.unflatten(-1, (4, -1))[:, 1]
    same = (a == b).all(-1)
    new_a = torch.where(where[:, None], base_b, a)
    new_b = torch.where((where & same)[:, None], base_b, b)
    return torch.cat([new_a, new_b, c, d], dim=-1)
