"""Training several seeds' MLPs as one batched computation, with each seed's numbers those of
its own `train.train_model` run.

    train_models(cfgs)  ->  [(MLP, history), ...]      # cfgs differ in their seed only

Every seed keeps its own random streams exactly as the single-seed training draws them: its
init (`new_model`), its training batches (`generator(seed, "train")`, one `sample_examples`
per step) and its vocabulary. Only the arithmetic is batched: the weights are stacked on a
leading seed dim (M, out, in) and each layer is one `baddbmm` for all seeds; one Adam (with
one schedule: its learning rate and momentum are the same scalars for every seed) steps the
per-seed parameters. Each seed's loss is its own mean, and the summed loss gives each seed
exactly its own gradient.

The batched ops are chosen to compute what the single-seed ops compute, bit for bit, on
torch's CPU kernels: a hidden layer's `baddbmm` per seed is `addmm`'s GEMM, and the readout
(one output) is written as W @ h^T, which is the matrix-vector product `nn.Linear` uses
there (h @ W^T as a batched product with one column is not). The tests compare weights and
histories with the single-seed training as oracle.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd
import torch
from torch import nn

from explorer.core.config import RunConfig
from explorer.core.models import MLP
from explorer.core.optim import Adam
from explorer.core.progress import Progress, scaled_progress
from explorer.core.rng import generator
from explorer.core.task import sample_examples
from explorer.core.train import entities_for, lr_schedule, new_model, recipe_for, train_model


def _same_but_seed(cfgs: list[RunConfig]) -> None:
    first = cfgs[0].with_values(seed=0)
    if any(c.with_values(seed=0) != first for c in cfgs):
        raise ValueError("batched training needs configs that differ in their seed only")


def _layers(model: MLP) -> list[nn.Linear]:
    return [*model.hidden_layers, model.readout]


def stacked_logits(weights: list[torch.Tensor], biases: list[torch.Tensor], act: nn.Module,
                   x: torch.Tensor) -> torch.Tensor:
    """x (M, n, in) through M MLPs: weights[i] (M, out, in), biases[i] (M, out) -> (M, n)."""
    h = x
    for w, b in zip(weights[:-1], biases[:-1]):
        h = act(torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2)))  # (M, n, out)
    return _Readout.apply(h, weights[-1], biases[-1])  # (M, n)


class _Readout(torch.autograd.Function):
    """The one-output readout of M MLPs: h (M, n, d), w (M, 1, d), b (M, 1) -> (M, n).

    Written as W @ h^T (the matrix-vector product `nn.Linear` computes for one output), with
    the gradient of h formed in h's own layout, (M, n, d) contiguous, as `nn.Linear`'s is:
    autograd's would be a transposed view, and the next layer's bias gradient would then sum
    its batch in another order."""

    @staticmethod
    def forward(ctx, h, w, b):
        ctx.save_for_backward(h, w)
        return torch.bmm(w, h.transpose(1, 2)).squeeze(1) + b

    @staticmethod
    def backward(ctx, grad):  # grad (M, n)
        h, w = ctx.saved_tensors
        g = grad.unsqueeze(1)  # (M, 1, n)
        return torch.bmm(g.transpose(1, 2), w), torch.bmm(g, h), grad.sum(-1, keepdim=True)


def train_models(cfgs: list[RunConfig], progress: Progress | None = None, log_every: int = 100,
                 on_log: Callable[[int, dict], None] | None = None
                 ) -> list[tuple[MLP, pd.DataFrame]]:
    """Train every config's model (configs that differ in their seed only) together; returns
    (model, history) per config, as `train_model` would. `on_log(i, row)` gets config i's
    history rows as they are logged."""
    _same_but_seed(cfgs)
    recipe, n = recipe_for(cfgs[0]), len(cfgs)
    entities = [entities_for(c) for c in cfgs]
    gens = [generator(c.seed, "train") for c in cfgs]
    models = [new_model(c) for c in cfgs]
    per_layer = list(zip(*(_layers(m) for m in models)))  # per layer: that layer of each model
    weights = [nn.Parameter(torch.stack([l.weight.detach() for l in ls])) for ls in per_layer]
    biases = [nn.Parameter(torch.stack([l.bias.detach() for l in ls])) for ls in per_layer]
    params = [p for pair in zip(weights, biases) for p in pair]  # model.parameters()' order
    opt = Adam(params, lr=recipe.lr)  # as train_model's
    sched = lr_schedule(opt, max_lr=recipe.lr, steps=recipe.steps)
    act, batch_size = models[0].act, cfgs[0].train.train_batch_size
    rows: list[list[dict]] = [[] for _ in cfgs]
    losses, corrects = [], []
    for step in range(1, recipe.steps + 1):
        batches = [sample_examples(batch_size, e, "train", g) for e, g in zip(entities, gens)]
        x = torch.stack([b.x for b in batches])  # (M, B, in)
        y = torch.stack([b.y for b in batches])  # (M, B)
        logits = stacked_logits(weights, biases, act, x)
        loss = nn.functional.binary_cross_entropy_with_logits(
            logits, y.float(), reduction="none").mean(-1)  # (M,): each seed's own mean
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        sched.step()
        losses.append(loss.detach())
        corrects.append(((logits.detach() > 0) == y).sum(-1))
        if step % log_every == 0 or step == recipe.steps:
            _log(rows, step, torch.stack(losses).tolist(), torch.stack(corrects).tolist(),
                 batch_size, on_log)
            losses, corrects = [], []
            if progress:
                progress(step / recipe.steps, f"training {n} seeds: step {step}/{recipe.steps}")
    with torch.no_grad():
        for i, layers in enumerate(per_layer):
            for m, layer in enumerate(layers):
                layer.weight.copy_(weights[i][m])
                layer.bias.copy_(biases[i][m])
    return [(m.eval().requires_grad_(False), pd.DataFrame(r)) for m, r in zip(models, rows)]


PROBE_STEPS = 2  # steps of the exactness probe: a forward, a backward and an Adam step each


def batched_is_exact(cfgs: list[RunConfig]) -> bool:
    """Whether the batched training computes, for these shapes, exactly what each seed's own
    training does: PROBE_STEPS steps of both, weights compared bit for bit. Kernel choices
    (GEMM or matrix-vector, reduction order) depend on the shapes only, so steps that agree
    here agree throughout; where they do not (some widths and batch sizes), train per seed."""
    short = [c.with_values(train_steps=PROBE_STEPS) for c in cfgs]
    got = train_models(short)
    for (model, _), cfg in zip(got, short):
        want, _ = train_model(cfg)
        if not all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                      want.state_dict().values())):
            return False
    return True


def train_seeds(cfgs: list[RunConfig], progress: Progress | None = None
                ) -> tuple[list[tuple[MLP, pd.DataFrame]], bool]:
    """Every seed's (model, history), batched when the probe finds that exact, else one
    `train_model` per seed; and whether it was batched. The numbers are each seed's own."""
    if len(cfgs) > 1 and batched_is_exact(cfgs):
        return train_models(cfgs, progress), True
    out = []
    for i, cfg in enumerate(cfgs):
        out.append(train_model(cfg, scaled_progress(progress, i / len(cfgs),
                                                    (i + 1) / len(cfgs))))
    return out, len(cfgs) == 1


def _log(rows: list[list[dict]], step: int, losses: list[list[float]],
         corrects: list[list[int]], batch_size: int, on_log) -> None:
    """One history row per seed, summed as train_model sums: Python floats, step by step."""
    for i, seed_rows in enumerate(rows):
        loss_sum, correct = 0.0, 0
        for step_losses, step_correct in zip(losses, corrects):
            loss_sum += step_losses[i]
            correct += step_correct[i]
        seen = batch_size * len(losses)
        seed_rows.append({"step": step, "loss": loss_sum / (seen / batch_size),
                          "train_accuracy": correct / seen})
        if on_log:
            on_log(i, dict(seed_rows[-1]))
