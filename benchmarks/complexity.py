"""Speed of the complexity dial (issue 10): one model's sweep (orthogonal, linear, RevNet
h = 1, 2, 4, 8, 16 at every site; target <= 60 s on 2 cores for the trained network) and of
one plant-and-recover run (target <= 30 s).

    python benchmarks/complexity.py [--seed 0] [--skip-plant] [--flag value ...]

Prints the sweep's IIA table, its wall time for the trained network alone and with the
random-features control network, and the plant-and-recover wall time.
"""

import argparse
import time

import common  # noqa: F401  (fixes threads, sets the path)

from explorer.analysis.complexity import DialSettings, complexity_sweep
from explorer.core.config import RunConfig
from explorer.runs.complexity import networks_for, report, trained_model
from explorer.runs.planting import PLANT_DEFAULTS, PlantSettings, plant_and_recover


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-plant", action="store_true")
    args, rest = parser.parse_known_args()
    flat = {k.lstrip("-").replace("-", "_"): v for k, v in zip(rest[::2], rest[1::2])}
    cfg = RunConfig.from_flat({**flat, "seed": args.seed})
    model, source = trained_model(cfg)
    nets = networks_for(cfg, model)
    settings = DialSettings()
    start = time.perf_counter()
    alone = complexity_sweep({"trained": model}, cfg, settings)
    trained_s = time.perf_counter() - start
    start = time.perf_counter()
    both = complexity_sweep(nets, cfg, settings)
    both_s = time.perf_counter() - start
    print(f"model: {source}")
    print(report(both, None))
    print(f"sweep of the trained network ({len(settings.widths)} RevNet widths + orthogonal + "
          f"linear x {model.n_sites} sites): {trained_s:.1f} s (target <= 60 s on 2 cores); "
          f"with the control network: {both_s:.1f} s")
    assert alone.frame.iia.tolist() == both.frame[both.frame.network == "trained"].iia.tolist()
    if not args.skip_plant:
        start = time.perf_counter()
        plant_and_recover(RunConfig.from_flat({**PLANT_DEFAULTS, "seed": args.seed}),
                          PlantSettings(), workers=2)
        print(f"plant-and-recover (rotated, every method): {time.perf_counter() - start:.1f} s "
              "(target <= 30 s on 2 cores)")


if __name__ == "__main__":
    main()
