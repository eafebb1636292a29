"""Several seeds for little more than one (issue 11: 5 seeds in at most 2x one seed's wall).

    python benchmarks/seeds.py [--seeds 0,1,2,3,4] [--check all|first|none] [--flag value ...]

In one process, after a short warm-up run (torch's first calls cost seconds that a fresh
process pays once, whatever it runs): the single-seed pipeline (`methods.experiment.run`)
for the first seed, then every seed at once (`runs.seeds.run_seeds`); prints both wall
times (and CPU times), their
ratio and the machine's load average, then whether each seed's report (timings aside) equals
its single-seed run bit for bit (`--check all` reruns every seed alone, after the timing).
Config flags as for `python -m explorer run` (e.g. `--activation sigmoid`).
"""

import argparse
import json
import os
import time

import common  # noqa: F401  (fixes threads, sets the path)

from explorer.core.config import RunConfig, flat_field_types
from explorer.methods.experiment import run
from explorer.runs.seeds import parse_seeds, run_seeds


def timed(fn, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def numbers(summary: dict) -> str:
    return json.dumps({k: v for k, v in summary.items() if k != "timings"}, sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--check", choices=("all", "first", "none"), default="first")
    for name in flat_field_types():
        if name != "seed":
            parser.add_argument("--" + name.replace("_", "-"), dest=name, default=None)
    args = parser.parse_args()
    seeds = parse_seeds(args.seeds)
    cfg = RunConfig.from_flat({k: v for k, v in vars(args).items()
                               if k in flat_field_types() and v is not None})
    run(cfg.with_values(seed=seeds[0], train_steps=20, das_steps=20))  # warm-up
    load = os.getloadavg()
    one, wall1, cpu1 = timed(run, cfg.with_values(seed=seeds[0]))
    many, wall_n, cpu_n = timed(run_seeds, cfg, seeds)
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"(after: {os.getloadavg()[0]:.2f}), {os.cpu_count()} cores")
    print(f"1 seed  (run):       wall {wall1:6.2f} s   cpu {cpu1:6.2f} s")
    print(f"{len(seeds)} seeds (run_seeds): wall {wall_n:6.2f} s   cpu {cpu_n:6.2f} s   "
          f"batched {many.batched}")
    print(f"ratio {len(seeds)} seeds / 1 seed: wall {wall_n / wall1:.2f}x   "
          f"cpu {cpu_n / cpu1:.2f}x")
    print("phases, 1 seed:  ", one.timings)
    print(f"phases, {len(seeds)} seeds: ", many.timings)
    checks = {0: one} if args.check != "none" else {}
    if args.check == "all":
        checks.update({i: run(cfg.with_values(seed=s)) for i, s in enumerate(seeds) if i})
    for i, single in checks.items():
        same = numbers(many.runs[i].summary()) == numbers(single.summary())
        print(f"seed {seeds[i]}: report equals the single-seed run bit for bit: {same}")
    print(many.table().to_string(index=False))


if __name__ == "__main__":
    main()
