"""Swap interventions one pair at a time, and their outcomes in aggregate.

An `Alignment` (`explorer.core.alignment`) names how a site's state is split among the
high-level variables; the ones compared here are DAS (a learned rotation with a block
mask), the best neuron-wise subsets (identity map, 0/1 mask), the full-layer patch
(everything from the first intervened variable's source) and "no intervention" (an all-zero
mask: the base prediction). Every swap goes through the
engine's one primitive via `explorer.core.iia.intervened_logits`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from explorer.core.alignment import Alignment
from explorer.core.causal import CAUSAL_MODELS, counterfactual_labels
from explorer.core.config import RunConfig
from explorer.methods.das import DASResult
from explorer.core.iia import SiteData, intervened_logits, site_data
from explorer.core.models import MLP
from explorer.core.rng import generator
from explorer.methods.search import NeuronResult
from explorer.core.task import (INTERVENTION_TYPES, PATTERN_V1, PATTERN_V2, PATTERNS, Examples,
                                Pairs, first_matches_base_b, sample_examples)
from explorer.core.train import entities_for
from explorer.core.vocabulary import METHOD_LABELS

NO_INTERVENTION = "no intervention"


def alignments(das: DASResult | None, neuron: NeuronResult | None,
               n_vars: int, d: int) -> list[Alignment]:
    """The alignments to compare: DAS and the neuron-wise search's subsets (when given), the
    full layer, no intervention."""
    return compared(None if das is None else (das.var_mask, das.map, das.inverse),
                    None if neuron is None else neuron.var_mask, n_vars, d)


def compared(das: tuple | None, neuron_mask: torch.Tensor | None, n_vars: int,
             d: int) -> list[Alignment]:
    """`alignments` from their parts: DAS's (mask, map, inverse) and the neuron-wise mask
    (V, d), e.g. a shipped run's stored rotation and subsets."""
    out = []
    if das is not None:
        out.append(Alignment(METHOD_LABELS["das"], *das))
    if neuron_mask is not None:
        out.append(Alignment(METHOD_LABELS["neuron"], neuron_mask))
    out.append(Alignment("full layer", torch.ones(n_vars, d), first_source_only=True))
    out.append(Alignment(NO_INTERVENTION, torch.zeros(n_vars, d)))
    return out


def _first_only(intervened: torch.Tensor) -> torch.Tensor:
    first = intervened.int().argmax(-1)
    return torch.nn.functional.one_hot(first, intervened.shape[1]).bool()


@torch.no_grad()
def swapped_logits(model: MLP, data: SiteData, alignment: Alignment) -> torch.Tensor:
    """Logits (n,) after applying the alignment's interchange to every pair."""
    if alignment.first_source_only:
        data = replace(data, intervened=_first_only(data.intervened))
    return intervened_logits(model, data, alignment.var_mask, alignment.map,
                             alignment.inverse)


def draw_pairs(cfg: RunConfig, n: int, draw: int, base_pattern: str | None = None,
               source_pattern: str | None = None, kind: str | None = None,
               label_changing: bool = False) -> Pairs:
    """n held-out pairs for the config's hypothesis. The base's pattern, each source's
    pattern and the intervention type are drawn uniformly at random for every pair unless
    named (not balanced over the n pairs: a balanced draw of one pair is always ABCD with
    ABCD sources on V1). With `label_changing`, only pairs whose counterfactual label
    differs from the base label are kept (drawing more as needed); when the named patterns
    and type allow none, the pairs drawn are returned as they are. `draw` selects an
    independent random stream (draw 0, 1, ...)."""
    hyp = cfg.das.hypothesis
    ent, gen = entities_for(cfg), generator(cfg.seed, "swap-draw", hyp, draw)
    if not label_changing:
        return _uniform_pairs(n, cfg, ent, gen, base_pattern, source_pattern, kind)
    kept, first = [], None
    for _ in range(LABEL_CHANGING_TRIES):
        pairs = _uniform_pairs(max(n, 64), cfg, ent, gen, base_pattern, source_pattern, kind)
        first = first or pairs
        flips = counterfactual_labels(hyp, pairs) != CAUSAL_MODELS[hyp].run(pairs.base.x)
        kept.append(pairs.subset(flips.nonzero()[:, 0]))
        if sum(len(p) for p in kept) >= n:
            break
    found = _concat(kept)
    return (found if len(found) >= n else first).subset(torch.arange(n))


LABEL_CHANGING_TRIES = 8  # batches of >= 64 candidates: a third or more change the label


def _uniform_pairs(n: int, cfg: RunConfig, ent, gen: torch.Generator, base_pattern,
                   source_pattern, kind) -> Pairs:
    hyp = cfg.das.hypothesis
    n_vars = len(CAUSAL_MODELS[hyp].variables)
    types = INTERVENTION_TYPES[n_vars]

    def pick(name: str | None, options: tuple) -> torch.Tensor:
        if name is not None:
            return torch.full((n,), options.index(name))
        return torch.randint(len(options), (n,), generator=gen)

    base = sample_examples(n, ent, "test", gen, pick(base_pattern, PATTERNS))
    sources = torch.stack([sample_examples(n, ent, "test", gen,
                                           pick(source_pattern, PATTERNS)).x
                           for _ in range(n_vars)], 1)
    if hyp == "identity":  # as sample_pairs: the source's a is the base's b half the time
        where = torch.randint(2, (n,), generator=gen).bool()
        sources[:, 0] = first_matches_base_b(sources[:, 0], base.x, where)
    index = pick(kind, types)
    table = torch.tensor([[t in (var, "both") for var in types[:n_vars]] for t in types])
    return Pairs(base, sources, table[index], index)


def _concat(parts: list[Pairs]) -> Pairs:
    return Pairs(Examples(torch.cat([p.base.x for p in parts]),
                          torch.cat([p.base.pattern for p in parts])),
                 torch.cat([p.sources for p in parts]), torch.cat([p.intervened for p in parts]),
                 torch.cat([p.kind for p in parts]))


def swap_outcomes(model: MLP, data: SiteData, aligns: list[Alignment]) -> pd.DataFrame:
    """One row per pair and alignment: pair, type, method, base_label, base_prediction,
    counterfactual_label, prediction, correct, label_changed."""
    base = pd.DataFrame({
        "pair": np.arange(len(data)),
        "type": [data.type_names[i] for i in data.kind.tolist()],
        "base_label": data.base_label.numpy(), "base_prediction": data.base_pred.numpy(),
        "counterfactual_label": data.counterfactual_label.numpy(),
        "label_changed": (data.counterfactual_label != data.base_label).numpy()})
    frames = []
    for alignment in aligns:
        pred = (swapped_logits(model, data, alignment) > 0).numpy()
        frames.append(base.assign(method=alignment.name, prediction=pred,
                                  correct=pred == base.counterfactual_label))
    return pd.concat(frames, ignore_index=True)


def outcome_summary(outcomes: pd.DataFrame, changed_only: bool = False) -> pd.DataFrame:
    """IIA per method and intervention type (and 'all'): method, type, iia, n; methods in
    their order in `outcomes`, types as all, V1, V2, both."""
    rows = outcomes[outcomes.label_changed] if changed_only else outcomes
    per_type = rows.groupby(["method", "type"], sort=False).correct.agg(["mean", "size"])
    overall = rows.groupby("method", sort=False).correct.agg(["mean", "size"])
    overall.index = pd.MultiIndex.from_product([overall.index, ["all"]], names=["method", "type"])
    table = pd.concat([overall, per_type]).reset_index()
    order = {name: i for i, name in enumerate(("all", *INTERVENTION_TYPES[2]))}
    methods = {name: i for i, name in enumerate(dict.fromkeys(outcomes.method))}
    table = table.sort_values(["method", "type"], key=lambda col: col.map(
        methods if col.name == "method" else order), ignore_index=True)
    return table.rename(columns={"mean": "iia", "size": "n"})


def entity_names(pairs: Pairs, i: int) -> tuple[list[list[str]], dict[str, list[float]]]:
    """Name pair i's distinct entity vectors E1, E2, ... in order of appearance.
    Returns names per row (base, then each source) x (a, b, c, d), and name -> vector."""
    rows = torch.cat([pairs.base.x[i:i + 1], pairs.sources[i]]).unflatten(-1, (4, -1))
    names: list[list[str]] = []
    vectors: dict[str, list[float]] = {}
    for row in rows:
        names.append([])
        for entity in row:
            found = [k for k, v in vectors.items() if torch.equal(torch.tensor(v), entity)]
            if not found:
                found = [f"E{len(vectors) + 1}"]
                vectors[found[0]] = entity.tolist()
            names[-1].append(found[0])
    return names, vectors


def pair_table(pairs: Pairs, i: int, hypothesis: str) -> pd.DataFrame:
    """Pair i as a table: role, a, b, c, d (entity names), pattern, the high-level
    variables and the label of each input (base first, then one source per variable)."""
    model = CAUSAL_MODELS[hypothesis]
    names, vectors = entity_names(pairs, i)
    inputs = torch.cat([pairs.base.x[i:i + 1], pairs.sources[i]])
    roles = ["base"] + [f"source for {v}" + ("" if pairs.intervened[i, j] else " (unused)")
                        for j, v in enumerate(model.variables)]
    frame = pd.DataFrame(names, columns=list("abcd"))
    frame.insert(0, "role", roles)
    frame["pattern"] = [_pattern_of(row) for row in names]
    for var, values in model.compute(inputs).items():
        frame[var] = [_show(v, vectors) for v in values]
    frame["label"] = model.run(inputs).tolist()
    return frame


def _pattern_of(row: list[str]) -> str:
    """The task pattern of entity names a, b, c, d (equal names = equal entities)."""
    v1, v2 = row[0] == row[1], row[2] == row[3]
    return next(p for i, p in enumerate(PATTERNS)
                if bool(PATTERN_V1[i]) == v1 and bool(PATTERN_V2[i]) == v2)


def _show(value: torch.Tensor, vectors: dict[str, list[float]]) -> object:
    """A boolean variable as bool; an entity-valued one (identity hypothesis) by its name."""
    if value.dim() == 0:
        return bool(value)
    return next((k for k, v in vectors.items() if v == value.tolist()), "?")


def site_pairs(model: MLP, cfg: RunConfig, pairs: Pairs) -> SiteData:
    """Cached states of the pairs at the config's site, labelled by its hypothesis."""
    return site_data(model, cfg.das.site, pairs, cfg.das.hypothesis)
