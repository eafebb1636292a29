"""The neuron-wise search's chunk size: seconds per exhaustive search at several
`search.CHUNK_ELEMENTS`, side by side in one run, and whether every size gives the same
ranking and scores bit for bit.

    python benchmarks/search_chunk.py [--sizes 1000000,262144,131072] [--pairs 512] [--repeats 3]

Both variables are searched at once in two threads, as the pipeline does. The search is
memory-bound (a 16-wide state per subset and pair, through two layers): a chunk that fits
the core's L2 cache is several times faster than one that streams through memory.
"""

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import common  # noqa: F401  (fixes threads, sets the path)

import torch

from explorer.core.config import RunConfig
from explorer.core.pairs import pair_set
from explorer.core.train import new_model
from explorer.methods import search


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,524288,262144,131072")
    parser.add_argument("--pairs", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cfg = RunConfig().with_values(n_search_pairs=args.pairs)
    net = new_model(cfg).eval().requires_grad_(False)  # an untrained net: the same work
    pairs = pair_set(net, cfg)
    sizes = [int(s) for s in args.sizes.split(",")]

    def both():
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(lambda v: search.rank_exhaustive(net, pairs.search[v], v, 8),
                                 range(2)))
    both()  # warm
    best, results = {s: float("inf") for s in sizes}, {}
    for _ in range(args.repeats):  # interleaved, so the host's noise hits every size alike
        for size in sizes:
            search.CHUNK_ELEMENTS = size
            start = time.perf_counter()
            results[size] = both()
            best[size] = min(best[size], time.perf_counter() - start)
    first = results[sizes[0]]
    print(f"C(16, 8) subsets x {args.pairs} pairs x 2 variables, best of {args.repeats}:")
    for size in sizes:
        same = all(a[0] == b[0] and torch.equal(a[1], b[1]) for a, b in zip(results[size], first))
        print(f"  CHUNK_ELEMENTS {size:>9,} ({size * 4 / 2**20:5.2f} MiB a tensor): "
              f"{best[size]:6.3f} s   same ranking and scores as {sizes[0]:,}: {same}")


if __name__ == "__main__":
    main()
