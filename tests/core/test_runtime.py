"""explorer.core.runtime: the fixed mmap threshold keeps the neuron-wise search's peak
memory flat. Measured in fresh subprocesses, with and without the fix, so the test shows it
can fail: glibc's dynamic threshold grows the heap by hundreds of MB on the same work."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.core import runtime

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys
from explorer.core import rng, runtime
rng.fix_threads()
if sys.argv[1] == "fixed":
    assert runtime.fix_allocator()
from explorer.core.config import RunConfig
from explorer.core.pairs import pair_set
from explorer.core.train import train_model
from explorer.methods.search import rank_exhaustive

def hwm():
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) // 1024

cfg = RunConfig().with_values(train_steps=20)
model = train_model(cfg)[0]  # a first training raises glibc's threshold
pairs = pair_set(model, cfg)
before = hwm()
kept = [rank_exhaustive(model, pairs.search[var], var, 8) for var in (0, 1, 0, 1)]  # as the
# search keeps its rankings: small objects between the large blocks pin the heap
print(json.dumps({"grew_mb": hwm() - before}))
"""


def _grew(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["grew_mb"]


@pytest.mark.skipif(not sys.platform.startswith("linux") or not runtime.fix_allocator(),
                    reason="glibc only")
def test_the_fixed_threshold_keeps_the_searchs_peak_flat_and_the_default_does_not():
    fixed, dynamic = _grew("fixed"), _grew("dynamic")
    assert fixed < 60, fixed  # the search's own chunks are a few MB
    assert dynamic > 150, dynamic  # measured: about +300 MB with glibc's dynamic threshold
