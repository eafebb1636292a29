"""Named random streams: every sampling function takes a `torch.Generator` made here.

`generator(seed, "train")` and `generator(seed, "das")` are independent streams derived
from one seed, so adding a phase never shifts the numbers of another.
"""

from __future__ import annotations

import hashlib

import torch

# Floating-point sums can differ with the number of intra-op threads, and DAS training
# amplifies such differences. Entry points (CLI, app, benchmarks, tests, sweep workers) call
# `fix_threads()` so a shared config and seed give bit-identical numbers on any machine.
# One thread: these networks are too small to gain from more, and spinning OpenMP threads
# slow down by an order of magnitude when processes share a 2-core host.
THREADS = 1


def fix_threads() -> None:
    torch.set_num_threads(THREADS)


def derive_seed(seed: int, *names: object) -> int:
    text = "/".join([str(seed), *map(str, names)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") & (2**63 - 1)


def generator(seed: int, *names: object) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(derive_seed(seed, *names))
    return g
