"""Does the small-h anchor (Sutter et al. 2025: ReLU 3x16, k = 8, layer 1 IIA 0.66 / 0.84 /
0.94 / 0.99 / 0.99 for h = 1 / 2 / 4 / 8 / 16) reproduce once the RevNet map has no learned
rotation? Ours is a learned rotation followed by coupling blocks, so at any h it scores at
least orthogonal DAS; theirs at h = 1 scores below it. Here the rotation is frozen at the
identity (couplings alone, on the site's own units), one restart per width, the dial's
budget, entity-disjoint pairs as in the complexity sweep.

    python benchmarks/anchor_frozen_rotation.py [--seeds 0] [--sites 1,3]

Prints IIA per seed, site and h for the frozen-rotation map beside the learned-rotation one.
"""

import argparse
import time

import common  # noqa: F401  (fixes threads, sets the path)
import torch

from explorer.analysis.complexity import DialSettings, pairs_for
from explorer.core.config import RunConfig
from explorer.core.rng import generator
from explorer.methods.dial import WIDTHS
from explorer.methods.revnet import train_revnet
from explorer.runs.complexity import trained_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--sites", default="1,3")
    args = parser.parse_args()
    settings = DialSettings()
    for seed in (int(s) for s in args.seeds.split(",")):
        cfg = settings.config(RunConfig().with_values(seed=seed)).with_values(restarts=1)
        model, _ = trained_model(cfg)
        pairs = pairs_for(cfg, "both", settings)
        for site in (int(s) for s in args.sites.split(",")):
            cfg_site = cfg.with_values(site=site)
            train, val, test = pairs.at(model, site)
            d = train.base_h.shape[-1]
            row = []
            for width in WIDTHS:
                out = {}
                for name, lr in (("frozen", 0.0), ("learned", None)):
                    found = train_revnet(model, train, val, test, cfg.das.k, cfg_site.das,
                                         generator(seed, "anchor", site, width), width=width,
                                         first=torch.eye(d), rotation_lr=lr)
                    out[name] = found.test.iia
                row.append(f"h={width}: {out['frozen']:.3f} / {out['learned']:.3f}")
            print(f"seed {seed} site {site} (frozen / learned rotation): " + ", ".join(row),
                  flush=True)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"{time.perf_counter() - start:.0f} s")
