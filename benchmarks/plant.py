"""Speed of one plant-and-recover run at 3x16 (issue 10: <= 30 s on 2 cores): IIT training,
then every method on the planted and the two wrong hypotheses.

    python benchmarks/plant.py [--form rotated] [--workers 2] [--map-width 8]
                               [--flag value ...]   (any config field, e.g. --k 4 --seed 1)

Defaults are the plant command's (--site 1 --das-steps 300, the rest as `run`).

Prints the plant check, the recovery table, each phase's wall seconds, the per-method wall
and CPU seconds, the total wall and CPU time and peak memory.
"""

import argparse
import time

import common  # noqa: F401  (fixes threads, sets the path)
from common import peak_rss_mb

from explorer.core.config import RunConfig
from explorer.runs.planting import PLANT_DEFAULTS, PlantSettings, plant_and_recover, plant_report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--form", default="rotated")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--map-width", type=int, default=8)
    args, rest = parser.parse_known_args()
    flat = {k.lstrip("-").replace("-", "_"): v for k, v in zip(rest[::2], rest[1::2])}
    cfg = RunConfig.from_flat({**PLANT_DEFAULTS, **flat})  # as the plant command
    start, cpu_start = time.perf_counter(), time.process_time()
    result = plant_and_recover(cfg, PlantSettings(form=args.form, map_width=args.map_width),
                               workers=args.workers)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(plant_report(result))
    per_method = {k: v for k, v in result.timings.items() if "/" in k and not k.endswith("cpu")}
    print("per method, wall / CPU seconds:")
    for name, seconds in per_method.items():
        print(f"  {name:<22} {seconds:6.2f} / {result.timings[name + '/cpu']:6.2f}")
    print(f"plant-and-recover wall {wall:.1f} s (target <= 30 s on 2 cores), CPU {cpu:.1f} s, "
          f"{args.workers} worker threads; peak memory {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
