"""Neuron-wise (localist) alignment search: which set of k individual units, swapped from a
source, carries each high-level variable?

Each variable is searched on its own single-variable interventions: all C(d, k) subsets
scored in batches where that count is at most `max_exhaustive`, greedy forward selection
beyond. The best disjoint subsets per variable then form one alignment, scored on the same
held-out test pairs as DAS.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import pandas as pd
import torch

from explorer.core.iia import IIA, SiteData, evaluate
from explorer.core.models import MLP

# subsets x pairs x d per batch: 1 MiB of float32, the size of one core's L2 cache here. The
# search is memory-bound; chunks that stay in cache score C(16, 8) subsets 1.3-2x faster
# than 4 MiB ones did, with the same scores bit for bit (benchmarks/search_chunk.py)
CHUNK_ELEMENTS = 262_144


@dataclass(frozen=True)
class NeuronResult:
    subsets: tuple[tuple[int, ...], ...]  # chosen units per variable
    var_mask: torch.Tensor  # (V, d)
    test: IIA
    ranking: pd.DataFrame  # variable, rank, neurons, search_iia
    exhaustive: bool


def subset_masks(subsets: torch.Tensor, d: int) -> torch.Tensor:
    """(S, k) unit indices -> (S, d) 0/1 masks."""
    return torch.zeros(len(subsets), d).scatter_(1, subsets, 1.0)


@torch.no_grad()
def score_masks(model: MLP, data: SiteData, var: int, masks: torch.Tensor) -> torch.Tensor:
    """IIA of swapping the units in each mask (S, d) as variable `var`: (S,).

    Only variable `var`'s source enters the interchange (the other variables' masks would be
    all zero), which halves the work of the exhaustive search; a pair that does not
    intervene on `var` takes its base as that source, so one mask per subset serves all."""
    n, d = data.base_h.shape
    on = data.intervened[:, var:var + 1]  # (n, 1)
    diff = torch.where(on, data.source_h[:, var], data.base_h) - data.base_h  # (n, d)
    chunk = max(1, CHUNK_ELEMENTS // (n * d))
    scores = torch.empty(len(masks))  # written in place: small tensors kept across chunks
    # would sit between the chunks' large blocks in the heap and fragment it (+350 MB)
    # every chunk's blocks written into the same buffers (see `MLP.logits_from`)
    states, layers = torch.empty(chunk, n, d), model.scoring_buffers(data.site, chunk * n)
    for start, part in zip(range(0, len(masks), chunk), masks.split(chunk)):
        h = torch.addcmul(data.base_h, part.unsqueeze(1), diff,  # `interchange`'s
                          out=states[:len(part)])  # one-variable form, op for op: (S, n, d)
        logits = model.logits_from(data.site, h, layers)  # (S, n)
        torch.mean((logits > 0).eq(data.counterfactual_label).float(), -1,
                   out=scores[start:start + len(part)])
    return scores


def units_mask(subsets: tuple[tuple[int, ...], ...], d: int) -> torch.Tensor:
    """One 0/1 mask per variable from its chosen units: (V, d)."""
    return torch.stack([subset_masks(torch.tensor([s]), d)[0] for s in subsets])


def rank_exhaustive(model: MLP, data: SiteData, var: int, k: int) -> tuple[list, torch.Tensor]:
    d = data.base_h.shape[-1]
    subsets = torch.tensor(list(itertools.combinations(range(d), k)))
    scores = score_masks(model, data, var, subset_masks(subsets, d))
    order = scores.argsort(descending=True, stable=True)
    return [tuple(s) for s in subsets[order].tolist()], scores[order]


def rank_greedy(model: MLP, data: SiteData, var: int, k: int,
                exclude: frozenset[int] = frozenset()) -> tuple[list, torch.Tensor]:
    """Forward selection among the units not in `exclude`; returns the path's subset."""
    d = data.base_h.shape[-1]
    chosen: list[int] = []
    score = torch.tensor(0.0)
    for _ in range(k):
        rest = [u for u in range(d) if u not in chosen and u not in exclude]
        cands = torch.tensor([chosen + [u] for u in rest])
        scores = score_masks(model, data, var, subset_masks(cands, d))
        best = int(scores.argmax())
        chosen, score = chosen + [rest[best]], scores[best]
    return [tuple(sorted(chosen))], score.view(1)


def _pick_disjoint(rankings: list[tuple[list, torch.Tensor]], top: int = 50) -> tuple:
    """The best-scoring combination of pairwise-disjoint subsets from each variable's top;
    failing that, variable by variable the best subset disjoint from those already chosen.
    (Overlapping subsets would swap a unit twice: not an alignment.)"""
    best, best_score = None, -1.0
    heads = [list(zip(subs[:top], scores[:top].tolist())) for subs, scores in rankings]
    for combo in itertools.product(*heads):
        units = [u for subset, _ in combo for u in subset]
        total = sum(s for _, s in combo)
        if len(units) == len(set(units)) and total > best_score:
            best, best_score = tuple(subset for subset, _ in combo), total
    return best or _first_disjoint(rankings)


def _first_disjoint(rankings: list[tuple[list, torch.Tensor]]) -> tuple:
    used: set[int] = set()
    chosen = []
    for subsets, _ in rankings:
        pick = next((s for s in subsets if used.isdisjoint(s)), None)
        if pick is None:
            raise ValueError("no disjoint unit subsets: k x variables exceeds the width")
        chosen.append(pick)
        used |= set(pick)
    return tuple(chosen)


def neuron_search(model: MLP, search_data: list[SiteData], test: SiteData, k: int,
                  max_exhaustive: int, *, map_fn=map) -> NeuronResult:
    """search_data[v] holds pairs that intervene on variable v only. Exhaustive rankings of
    the variables are independent: `map_fn` (e.g. a thread pool's map) may run them at once."""
    d = test.base_h.shape[-1]
    exhaustive = math.comb(d, k) <= max_exhaustive
    if exhaustive:
        rankings = list(map_fn(lambda v: rank_exhaustive(model, search_data[v], v, k),
                               range(len(search_data))))
    else:
        rankings, used = [], frozenset()
        for v, data in enumerate(search_data):  # greedy: each variable after those before it
            rankings.append(rank_greedy(model, data, v, k, exclude=used))
            used |= set(rankings[-1][0][0])
    chosen = _pick_disjoint(rankings)
    var_mask = units_mask(chosen, d)
    ranking = pd.DataFrame([
        {"variable": test.type_names[v], "rank": i + 1, "neurons": list(subs[i]),
         "search_iia": float(scores[i])}
        for v, (subs, scores) in enumerate(rankings) for i in range(min(20, len(subs)))])
    return NeuronResult(chosen, var_mask, evaluate(model, test, var_mask), ranking, exhaustive)


def single_unit_scores(model: MLP, search_data: list[SiteData]) -> pd.DataFrame:
    """IIA of swapping each unit alone, per variable: columns variable, neuron, iia."""
    rows = []
    for v, data in enumerate(search_data):
        d = data.base_h.shape[-1]
        scores = score_masks(model, data, v, torch.eye(d))
        rows += [{"variable": data.type_names[v], "neuron": u, "iia": float(s)}
                 for u, s in enumerate(scores)]
    return pd.DataFrame(rows)
