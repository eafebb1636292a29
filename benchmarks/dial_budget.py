"""Has the complexity dial converged? (issue 10: the non-linear map's own budget). One
model's sweep (trained network only) at several step caps, patience fixed: if a map's IIA
still rises with the cap, the default cap reports "not found at this budget", not "not
there".

    python benchmarks/dial_budget.py [--seeds 0] [--caps 500,2000,6000] [--sites 1,3]

Prints, per seed, site and map, the entity-disjoint test IIA at each cap, and per cap the
steps used and the fraction of fits that converged (no gain over the last `das_patience`
steps), with the wall seconds of each sweep.
"""

import argparse
import time

import common  # noqa: F401  (fixes threads, sets the path)
import pandas as pd

from explorer.analysis.complexity import DialSettings, complexity_sweep
from explorer.core.config import RunConfig
from explorer.runs.complexity import trained_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--caps", default="500,2000,6000")
    parser.add_argument("--sites", default="1,3")
    parser.add_argument("--activation", default="relu")
    args = parser.parse_args()
    sites = tuple(int(s) for s in args.sites.split(","))
    frames = []
    for seed in (int(s) for s in args.seeds.split(",")):
        cfg = RunConfig().with_values(seed=seed, activation=args.activation)
        model, _ = trained_model(cfg)
        for cap in (int(c) for c in args.caps.split(",")):
            settings = DialSettings(das_steps=cap)
            start = time.perf_counter()
            sweep = complexity_sweep({"trained": model}, cfg, settings, sites)
            seconds = time.perf_counter() - start
            frames.append(sweep.frame.assign(seed=seed, cap=cap, sweep_s=round(seconds, 1)))
            print(f"seed {seed}, cap {cap}: {seconds:.1f} s", flush=True)
    table = pd.concat(frames, ignore_index=True)
    print(table.pivot_table(index=["seed", "site", "map"], columns="cap", values="iia",
                            sort=False).round(3).to_string())
    print(table.groupby("cap").agg(converged=("converged", "mean"),
                                   steps_used=("steps_used", "median"),
                                   sweep_s=("sweep_s", "mean")).to_string())


if __name__ == "__main__":
    main()
