"""Training's cost per step with the engine's Adam (`explorer.core.optim`) and with torch's
own foreach Adam patched in, side by side in one run, and whether both train the same
weights bit for bit.

    python benchmarks/train_step.py [--activation relu] [--steps 2500] [--repeats 2]
"""

import argparse
import time
from functools import partial

import common  # noqa: F401  (fixes threads, sets the path)

import torch

from explorer.core import train
from explorer.core.config import RunConfig


def timed(cfg: RunConfig, adam) -> tuple[float, list[torch.Tensor]]:
    train.Adam = adam
    start = time.perf_counter()
    model, _ = train.train_model(cfg)
    return time.perf_counter() - start, list(model.state_dict().values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    cfg = RunConfig().with_values(activation=args.activation, train_steps=args.steps)
    ours, torchs = train.Adam, partial(torch.optim.Adam, foreach=True)
    timed(cfg.with_values(train_steps=50), ours)  # warm
    best = {"engine Adam": float("inf"), "torch Adam": float("inf")}
    weights = {}
    for _ in range(args.repeats):  # interleaved: the host's noise hits both alike
        for name, adam in (("engine Adam", ours), ("torch Adam", torchs)):
            seconds, weights[name] = timed(cfg, adam)
            best[name] = min(best[name], seconds)
    same = all(torch.equal(a, b) for a, b in zip(*weights.values()))
    print(f"{args.activation} 3x16, {args.steps} steps x {cfg.train.train_batch_size}, "
          f"best of {args.repeats}:")
    for name, seconds in best.items():
        print(f"  {name:<12} {seconds:6.2f} s  ({1000 * seconds / args.steps:.2f} ms a step)")
    print(f"  same weights bit for bit: {same}")


if __name__ == "__main__":
    main()
