"""The neuron-wise search's peak memory stays flat. It scores subsets in chunks of a few MB;
keeping each chunk's small score tensor until the end (as it once did) left them between
the chunks' large blocks in glibc's heap, which then grew by one chunk per chunk (+350 MB
for one default search). Measured in fresh subprocesses: the search as it is, and that old
pattern as the control that shows the test can fail (its ranking read one subset at a time,
as it then was: the old pattern needs those small tensors to fragment the heap)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import itertools, json, sys
import torch
from explorer.core.rng import fix_threads
fix_threads()
from explorer.core.config import RunConfig
from explorer.core.interventions import interchange
from explorer.core.pairs import pair_set
from explorer.core.train import train_model
from explorer.methods import search

def old_score_masks(model, data, var, masks):  # the pattern that fragmented the heap
    n, d = data.base_h.shape
    on = data.intervened[:, var:var + 1]
    source = torch.where(on, data.source_h[:, var], data.base_h).unsqueeze(1)
    scores = []
    for part in masks.split(max(1, search.CHUNK_ELEMENTS // (n * d))):
        h = interchange(data.base_h, source, part.view(-1, 1, 1, d))
        logits = model.forward_from(data.site, h)
        scores.append((logits > 0).eq(data.counterfactual_label).float().mean(-1))
    return torch.cat(scores)

def old_rank_exhaustive(model, data, var, k):  # with its ranking read one subset at a time
    d = data.base_h.shape[-1]
    subsets = torch.tensor(list(itertools.combinations(range(d), k)))
    scores = search.score_masks(model, data, var, search.subset_masks(subsets, d))
    order = scores.argsort(descending=True, stable=True)
    return [tuple(subsets[i].tolist()) for i in order], scores[order]

def hwm():
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) // 1024

if sys.argv[1] == "old":
    search.score_masks, search.rank_exhaustive = old_score_masks, old_rank_exhaustive
cfg = RunConfig().with_values(train_steps=20)
model = train_model(cfg)[0]
pairs = pair_set(model, cfg)
before = hwm()
kept = [search.rank_exhaustive(model, pairs.search[v], v, 8) for v in (0, 1, 0, 1)]
print(json.dumps({"grew_mb": hwm() - before}))
"""


def _grew(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["grew_mb"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (glibc heap)")
def test_the_searchs_peak_stays_flat_and_the_old_pattern_does_not():
    now, old = _grew("new"), _grew("old")
    assert now < 60, now  # the chunks themselves are a few MB
    assert old > 150, old  # measured: about +380 MB
