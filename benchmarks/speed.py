"""Speed of the default pipeline on this machine (issue 11: <= 4 s wall on 2 cores; the
first version's targets were < 15 s and < 1.5 GB peak). Compare trees side by side: this
machine's speed varies from day to day.

    python benchmarks/speed.py [--seed 0]

Prints each phase's seconds, the total, peak memory, and whether DAS at its default budget
is within 0.01 of its converged IIA (the same DAS run four times as long).
"""

import argparse
import time

import common  # noqa: F401  (fixes threads, sets the path)
from common import peak_rss_mb

from explorer.core.config import RunConfig
from explorer.core.pairs import pair_set
from explorer.methods.experiment import run
from explorer.methods.steps import run_das


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cfg = RunConfig().with_values(seed=args.seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = run(cfg)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    summary = result.summary()
    print(f"default pipeline, seed {args.seed}: task accuracy {summary['task_accuracy']:.4f}, "
          f"DAS IIA {summary['das']['iia']:.3f}, neuron IIA {summary['neuron']['iia']:.3f}")
    for phase, seconds in result.timings.items():
        print(f"  {phase:<10} {seconds:6.2f} s")
    print(f"wall time {wall:.2f} s (target <= 4 s; CPU time {cpu:.2f} s); peak memory "
          f"{peak_rss_mb():.0f} MB (target < 1500 MB)")
    long_cfg = cfg.with_values(das_steps=4 * cfg.das.das_steps)
    converged = run_das(result.model, long_cfg, pair_set(result.model, long_cfg))
    gap = converged.test.iia - summary["das"]["iia"]
    print(f"DAS convergence: {cfg.das.das_steps} steps {summary['das']['iia']:.3f}, "
          f"{long_cfg.das.das_steps} steps {converged.test.iia:.3f} (gap {gap:+.3f}, "
          f"target within 0.01)")


if __name__ == "__main__":
    main()
