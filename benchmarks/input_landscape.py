"""The DAS loss along the path from a random subspace to the exact one, at the input.

For each shipped model (pretrained/models; activation x seeds 0-4) V1's exact difference
subspace D (a - b, 4 dims) is tilted by t degrees toward a random orthonormal E orthogonal to
it (Q = cos t D + sin t E), swapped as V1 on 1,024 V1-only held-out pairs, and scored with
DAS's training loss (BCE of the intervened logits against the counterfactual labels) and
IIA (`explorer.analysis.diagnostics.tilt_path`, the same code as the study's basin part).
Prints the median across seeds (3 random directions per seed, averaged first).

    python benchmarks/input_landscape.py [--activations relu,sigmoid,tanh]

Used by FINDINGS.md (question 3): does the loss lead a search from a random start to the
answer? Deterministic given the seeds; about 10 s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.core.config import RunConfig  # noqa: E402
from explorer.analysis.diagnostics import tilt_path  # noqa: E402
from explorer.core.iia import site_data  # noqa: E402
from explorer.core.rng import fix_threads, generator  # noqa: E402
from explorer.runs.measure import ModelCache  # noqa: E402
from explorer.store.paths import MODELS  # noqa: E402
from explorer.core.task import sample_pairs  # noqa: E402
from explorer.core.train import entities_for  # noqa: E402

DEGREES = (0, 1, 2, 5, 10, 20, 30, 45, 60, 75, 90)


def path_rows(model, cfg: RunConfig, draws: int = 3) -> list[dict]:
    gen = generator(cfg.seed, "input-landscape")
    pairs = sample_pairs(1024, 2, entities_for(cfg), "test", gen, only="V1")
    return tilt_path(model, site_data(model, 0, pairs, "both"), cfg.task.entity_dim, DEGREES,
                     draws, gen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--activations", default="relu,sigmoid,tanh")
    parser.add_argument("--models", default=str(MODELS))
    args = parser.parse_args()
    fix_threads()
    cache, frames = ModelCache(Path(args.models)), []
    for activation in args.activations.split(","):
        for seed in range(5):
            cfg = RunConfig().with_values(activation=activation, seed=seed)
            model, _ = cache.get(cfg)
            frames.append(pd.DataFrame(path_rows(model, cfg)).assign(activation=activation,
                                                                      seed=seed))
    frame = pd.concat(frames)
    per_seed = frame.groupby(["activation", "seed", "degrees"])[["loss", "iia"]].mean()
    table = per_seed.groupby(["activation", "degrees"]).median().unstack("activation")
    print("median across seeds along the tilt from the exact subspace (0) to 90 degrees")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
