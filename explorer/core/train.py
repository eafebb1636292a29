"""Training the MLP on hierarchical equality, and task accuracy on held-out entities.

Each activation has its own recipe (Adam learning rate and step count, `core.recipes.RECIPES`):
sigmoid and tanh stay at chance with the ReLU recipe. Every step draws a fresh batch from the training
stream, so the network never sees an entity twice (or, with a finite vocabulary, only
training-half entities).
"""

from __future__ import annotations

from typing import Callable

import pandas as pd
import torch
from torch import nn

from explorer.core.causal import CAUSAL_MODELS
from explorer.core.config import RunConfig
from explorer.core.recipes import RECIPES, Recipe, recipe_for  # noqa: F401  (re-exported)
from explorer.core.models import MLP
from explorer.core.optim import Adam
from explorer.core.rng import generator
from explorer.core.task import PATTERNS, Entities, Examples, sample_examples
from explorer.core.progress import Progress


def entities_for(cfg: RunConfig) -> Entities:
    return Entities.build(cfg.task, generator(cfg.seed, "vocab"))


def new_model(cfg: RunConfig, stream: str = "init") -> MLP:
    return MLP(cfg.input_dim, cfg.model, generator(cfg.seed, stream))


def labels(x: torch.Tensor) -> torch.Tensor:
    return CAUSAL_MODELS["both"].run(x)


@torch.no_grad()
def predict(model: MLP, x: torch.Tensor) -> torch.Tensor:
    return model(x) > 0


WARMUP = 0.1  # of the steps: OneCycle's rise to the peak learning rate


def lr_schedule(opt: torch.optim.Optimizer, *, max_lr: float,
                steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """OneCycle (10% warmup, cosine decay) when the warmup spans at least one step (20 steps
    or more); shorter runs have no room for one and decay from the peak (cosine). OneCycle's
    own phase arithmetic divides by zero at 10 steps and starts below 1e-5 at one step."""
    if WARMUP * steps - 1 >= 1:
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=steps,
                                                   pct_start=WARMUP)
    for group in opt.param_groups:
        group["lr"] = max_lr
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)


def train_model(cfg: RunConfig, progress: Progress | None = None, log_every: int = 100,
                on_log: Callable[[dict], None] | None = None) -> tuple[MLP, pd.DataFrame]:
    """Train from the config's seed; returns the model and a history (step, loss,
    train_accuracy). `on_log`, if given, receives each history row as it is logged."""
    recipe = recipe_for(cfg)
    entities, gen = entities_for(cfg), generator(cfg.seed, "train")
    model = new_model(cfg)
    opt = Adam(model.parameters(), lr=recipe.lr)  # torch's foreach Adam, bit for bit
    sched = lr_schedule(opt, max_lr=recipe.lr, steps=recipe.steps)
    rows, loss_sum, correct, seen = [], 0.0, 0, 0
    for step in range(1, recipe.steps + 1):
        batch = sample_examples(cfg.train.train_batch_size, entities, "train", gen)
        y = batch.y
        logits = model(batch.x)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y.float())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        loss_sum += loss.item()
        correct += int(((logits > 0) == y).sum())
        seen += len(y)
        if step % log_every == 0 or step == recipe.steps:
            rows.append({"step": step, "loss": loss_sum / (seen / len(y)),
                         "train_accuracy": correct / seen})
            loss_sum, correct, seen = 0.0, 0, 0
            if on_log:
                on_log(dict(rows[-1]))
            if progress:
                progress(step / recipe.steps, f"training step {step}/{recipe.steps}")
    model.eval().requires_grad_(False)
    return model, pd.DataFrame(rows)


def heldout_examples(cfg: RunConfig, n: int | None = None) -> Examples:
    """Test examples on entities never used in training (the vocabulary's test half)."""
    return sample_examples(n or cfg.train.eval_size, entities_for(cfg), "test",
                           generator(cfg.seed, "eval"))


def accuracy_table(model: MLP, examples: Examples) -> pd.DataFrame:
    """Accuracy overall and per input pattern: columns pattern, accuracy, n."""
    correct = predict(model, examples.x) == labels(examples.x)
    rows = [{"pattern": "all", "accuracy": correct.float().mean().item(), "n": len(correct)}]
    for i, name in enumerate(PATTERNS):
        sel = examples.pattern == i
        rows.append({"pattern": name, "accuracy": correct[sel].float().mean().item(),
                     "n": int(sel.sum())})
    return pd.DataFrame(rows)


def task_accuracy(model: MLP, examples: Examples) -> float:
    return float((predict(model, examples.x) == labels(examples.x)).float().mean())
