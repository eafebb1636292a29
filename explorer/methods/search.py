"""Neuron-wise (localist) alignment search: which set of k individual units, swapped from a
source, carries each high-level variable?

Each variable is searched on its own single-variable interventions: all C(d, k) subsets
scored in batches where that count is at most `max_exhaustive`, greedy forward selection
beyond. The best disjoint subsets per variable then form one alignment, scored on the same
held-out test pairs as DAS.
"""

from __future__ import annotations

import functools
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
# distinct states scored once per search (`_distinct_right`): at most 16 MiB of results, and
# state numbers exact in float32
MAX_DISTINCT = 2**24


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
    """IIA of swapping the units in each 0/1 mask (S, d) as variable `var`: (S,).

    Only variable `var`'s source enters the interchange (the other variables' masks would be
    all zero), which halves the work of the exhaustive search; a pair that does not
    intervene on `var` takes its base as that source, so one mask per subset serves all.

    A pair whose source differs from its base in j units only (a ReLU's zeros: at site 1 of
    the default network j is about 10 of 16) has at most 2^j distinct intervened states,
    whatever the subset. Where 2^j < S, that pair's 2^j states are scored once
    (`_distinct_right`) and each subset reads its own; the other pairs are scored subset by
    subset (`_dense_right`). Each state goes through the same kernels either way, and a
    score is a count of right pairs over n, so the scores are those of scoring every
    (subset, pair) state, bit for bit (tests/methods/test_search.py keeps that oracle)."""
    n, d = data.base_h.shape
    on = data.intervened[:, var:var + 1]  # (n, 1)
    diff = torch.where(on, data.source_h[:, var], data.base_h) - data.base_h  # (n, d)
    active = diff != 0  # (n, d)
    few = _few_states(active.sum(-1), len(masks))
    right = torch.zeros(len(masks), dtype=torch.long)  # right pairs per mask
    if not bool(few.all()):
        right += _dense_right(model, data, masks, ~few, diff)
    if bool(few.any()):
        right += _distinct_right(model, data, masks, few, diff, active)
    return right.float().div_(n)


def _few_states(j: torch.Tensor, n_masks: int) -> torch.Tensor:
    """(n,) bool: the pairs whose 2^j states are fewer than the masks, those with the fewest
    first, as many as MAX_DISTINCT states allow."""
    few = j < math.log2(n_masks)
    while few.any() and int((2 ** j[few]).sum()) > MAX_DISTINCT:
        few &= j < int(j[few].max())
    return few


def _dense_right(model: MLP, data: SiteData, masks: torch.Tensor, pairs: torch.Tensor,
                 diff: torch.Tensor) -> torch.Tensor:
    """Right pairs among `pairs` (n,) bool, per mask: every (mask, pair) state scored."""
    base, diff, label = data.base_h[pairs], diff[pairs], data.counterfactual_label[pairs]
    n, d = base.shape
    chunk = max(1, CHUNK_ELEMENTS // (n * d))
    right = torch.empty(len(masks), dtype=torch.long)  # written in place: small tensors kept
    # across chunks would sit between the chunks' large blocks in the heap and fragment it
    # every chunk's blocks written into the same buffers (see `MLP.logits_from`)
    states, layers = torch.empty(chunk, n, d), model.scoring_buffers(data.site, chunk * n)
    for start, part in zip(range(0, len(masks), chunk), masks.split(chunk)):
        h = torch.addcmul(base, part.unsqueeze(1), diff,  # `interchange`'s
                          out=states[:len(part)])  # one-variable form, op for op: (S, n, d)
        logits = model.logits_from(data.site, h, layers)  # (S, n)
        torch.sum((logits > 0).eq(label), -1, out=right[start:start + len(part)])
    return right


def _distinct_right(model: MLP, data: SiteData, masks: torch.Tensor, pairs: torch.Tensor,
                    diff: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """Right pairs among `pairs` (n,) bool, per mask, from each pair's distinct states.

    Pair p with active units u_0 < ... < u_{j-1} has 2^j states, numbered t: the units
    whose bit of t is set are swapped. Mask m reads state t = sum_i m[u_i] 2^i. The table of
    states lists the pairs by j (fewest first) and each pair's states in order."""
    j = active[pairs].sum(-1)
    by_j = j.argsort(stable=True)
    order = pairs.nonzero()[:, 0][by_j]
    active = active[order]
    bit = torch.where(active, 2 ** (active.int().cumsum(-1) - 1), 0).int()  # (n, d): u's bit
    sizes = 2 ** j[by_j]  # (n,) states per pair
    first = sizes.cumsum(0) - sizes  # (n,) each pair's first state in the table
    table = _state_table(model, data.site, data.base_h[order], diff[order],
                         data.counterfactual_label[order], bit, sizes, first)
    return _read_table(table, masks, bit, first)


def _state_table(model: MLP, site: int, base: torch.Tensor, diff: torch.Tensor,
                 label: torch.Tensor, bit: torch.Tensor, sizes: torch.Tensor,
                 first: torch.Tensor) -> torch.Tensor:
    """Whether each pair's each state is scored right (`_distinct_right`'s table): pairs of
    one size scored together, each state broadcast from its pair's base and difference."""
    table = torch.empty(int(sizes.sum()), dtype=torch.bool)
    rows, d = CHUNK_ELEMENTS // base.shape[1], base.shape[1]
    # every chunk's tensors written into the same buffers (see `_dense_right`)
    layers, bits = model.scoring_buffers(site, rows), torch.empty(rows, d, dtype=torch.int32)
    on, swap, h = torch.empty(rows, d, dtype=torch.bool), torch.empty(rows, d), torch.empty(rows, d)
    right = torch.empty(rows, dtype=torch.bool)
    for size in sizes.unique().tolist():  # the pairs with 2^j = size states, some at a time
        group = (sizes == size).nonzero()[:, 0]
        states = torch.arange(size, dtype=torch.int32).view(1, size, 1)
        for part in group.split(max(1, rows // size)):  # pairs; a big pair's states in parts
            for t in states.split(rows, dim=1):
                shape, c = (len(part), t.shape[1], d), len(part) * t.shape[1]
                torch.bitwise_and(t, bit[part].unsqueeze(1), out=bits[:c].view(shape))
                torch.ne(bits[:c], 0, out=on[:c])
                swap[:c].copy_(on[:c])  # (c, d) 0/1: the state's swapped units
                torch.addcmul(base[part].unsqueeze(1), swap[:c].view(shape),  # as `_dense_right`
                              diff[part].unsqueeze(1), out=h[:c].view(shape))
                logits = model.logits_from(site, h[:c], layers)  # (c,)
                torch.gt(logits, 0, out=right[:c])
                start = int(first[part[0]]) + int(t[0, 0, 0])
                torch.eq(right[:c].view(shape[:2]), label[part].unsqueeze(1),
                         out=table[start:start + c].view(shape[:2]))
    return table


def _read_table(table: torch.Tensor, masks: torch.Tensor, bit: torch.Tensor,
                first: torch.Tensor) -> torch.Tensor:
    """Right pairs per mask: each mask reads its state of every pair from the table."""
    n = len(first)
    where, first = bit.float().T, first.int()  # (d, n): a state's number, exact in float32
    counts = torch.empty(len(masks), dtype=torch.int32)
    chunk = max(1, CHUNK_ELEMENTS // n)
    number, state = torch.empty(chunk, n), torch.empty(chunk, n, dtype=torch.int32)
    scored = torch.empty(chunk * n, dtype=torch.bool)
    for start, part in zip(range(0, len(masks), chunk), masks.split(chunk)):
        s = len(part)
        torch.mm(part, where, out=number[:s])  # (s, n): each pair's state's number
        state[:s].copy_(number[:s]).add_(first)  # ... and its row in the table
        torch.index_select(table, 0, state[:s].view(-1), out=scored[:s * n])
        torch.sum(scored[:s * n].view(s, n), -1, dtype=torch.int32,
                  out=counts[start:start + s])
    return counts.long()


def units_mask(subsets: tuple[tuple[int, ...], ...], d: int) -> torch.Tensor:
    """One 0/1 mask per variable from its chosen units: (V, d)."""
    return torch.stack([subset_masks(torch.tensor([s]), d)[0] for s in subsets])


@functools.lru_cache(maxsize=8)
def all_subsets(d: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every k-subset of d units (C(d, k), k) in lexicographic order, and its masks
    (C(d, k), d); built once per (d, k) (20 ms at C(16, 8), every variable of every search
    paid it). Shared: never written."""
    subsets = torch.tensor(list(itertools.combinations(range(d), k)))
    return subsets, subset_masks(subsets, d)


def rank_exhaustive(model: MLP, data: SiteData, var: int, k: int) -> tuple[list, torch.Tensor]:
    subsets, masks = all_subsets(data.base_h.shape[-1], k)
    scores = score_masks(model, data, var, masks)
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
