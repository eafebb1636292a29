"""Planted networks: interchange intervention training (IIT, Geiger et al. 2022).

A plant fixes, before training, where V1 and V2 of the Both Equality Relations model are to
live: a site, k dims each, and a form.

    localist   a chosen set of 2k units (drawn from the plant's seed, recorded):
               the map is the permutation listing V1's units, then V2's, then the rest
    rotated    a Haar-random rotation R (d, d) drawn from the plant's seed, recorded:
               V1 = span of R's first k columns, V2 = the next k
    none       plain training (`core.train.train_model`), for contrast: nothing planted

Each IIT step draws a fresh batch of counterfactual pairs for the 'both' hypothesis (V1-only,
V2-only and both swaps, a third each; bases balanced over patterns) and adds to the task
loss (BCE on the bases' y) an interchange loss: the pairs swapped at the site through the
planted (map, block mask) by the one interchange primitive, scored by BCE against the causal
model's counterfactual label. Gradients flow into the network only; the planted map is
fixed. Same init, per-activation recipe shape and schedule as `train_model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from explorer.core.causal import counterfactual_labels
from explorer.core.config import RunConfig
from explorer.core.interventions import block_mask, interchange, pair_mask, random_rotation
from explorer.core.models import MLP
from explorer.core.optim import Adam
from explorer.core.progress import Progress
from explorer.core.rng import generator
from explorer.core.task import sample_pairs
from explorer.core.train import entities_for, new_model, recipe_for, train_model

FORMS = ("localist", "rotated", "none")
N_VARS = 2  # V1 and V2 of the Both Equality Relations model


@dataclass(frozen=True)
class Plant:
    """Where V1 and V2 are planted: h @ rotation, V1 the first k coordinates, V2 the next k."""

    form: str
    site: int
    k: int
    seed: int  # the plant's own seed: units or rotation come from generator(seed, "plant", form)
    rotation: torch.Tensor | None  # (d, d); None for form "none"
    units: tuple[tuple[int, ...], ...] | None = None  # localist: units per variable

    @property
    def var_mask(self) -> torch.Tensor:
        """(V, d) block mask: V1 the first k coordinates, V2 the next k."""
        return block_mask(self.k, N_VARS, self.rotation.shape[-1])

    def subspace(self, var: int) -> torch.Tensor:
        """The planted subspace of variable `var` as orthonormal columns (d, k)."""
        return self.rotation[:, var * self.k:(var + 1) * self.k]

    def to_json(self) -> dict:
        """JSON metadata (the checkpoint's `planted`): the matrix as nested lists."""
        return {"form": self.form, "site": self.site, "k": self.k, "seed": self.seed,
                "units": None if self.units is None else [list(u) for u in self.units],
                "rotation": None if self.rotation is None else self.rotation.tolist()}

    @classmethod
    def from_json(cls, meta: dict, cfg: RunConfig) -> Plant:
        """The plant of a checkpoint's metadata for cfg's network; ValueError names what is
        wrong (the metadata is read from a file: nothing is trusted)."""
        try:
            form, site, k, seed = meta["form"], meta["site"], meta["k"], meta["seed"]
            rotation, units = meta.get("rotation"), meta.get("units")
            plant = cls(form, site, k, seed,
                        None if rotation is None else torch.tensor(rotation, dtype=torch.float32),
                        None if units is None else tuple(tuple(s) for s in units))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"planted metadata is malformed: {err!r}"[:200]) from None
        return _checked(plant, cfg)


def _checked(plant: Plant, cfg: RunConfig) -> Plant:
    if plant.form not in FORMS or not all(type(v) is int for v in (plant.site, plant.k,
                                                                     plant.seed)):
        raise ValueError("planted metadata: form, or site/k/seed not integers")
    if not 1 <= plant.site <= cfg.model.layers:
        raise ValueError(f"planted site {plant.site} is not a hidden layer of the network")
    d = cfg.site_dim(plant.site)
    if not 1 <= plant.k <= d // N_VARS:
        raise ValueError(f"planted k {plant.k} does not fit a {d}-dim site")
    if (plant.rotation is None) != (plant.form == "none"):
        raise ValueError("planted metadata: a rotation is needed exactly when form is not none")
    if plant.rotation is not None:
        r = plant.rotation
        if r.shape != (d, d) or not torch.isfinite(r).all() or \
                not torch.allclose(r.T @ r, torch.eye(d), atol=1e-4):
            raise ValueError(f"planted rotation must be an orthogonal ({d}, {d}) matrix")
    if plant.form == "localist":
        units = plant.units or ()
        flat = [u for s in units for u in s]
        if len(units) != N_VARS or any(len(s) != plant.k for s in units) or \
                len(set(flat)) != len(flat) or not all(type(u) is int and 0 <= u < d
                                                       for u in flat):
            raise ValueError("planted units must be 2 disjoint sets of k units of the site")
        if not torch.equal(plant.rotation, unit_permutation(units, d)):
            raise ValueError("planted rotation is not the permutation of the planted units")
    return plant


def make_plant(form: str, d: int, site: int, k: int, seed: int) -> Plant:
    """A plant of `form` for a site of d dims; raises ValueError for impossible ones."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)} (got {form!r})")
    if site < 1:
        raise ValueError("a plant needs a hidden site (1 or more): the input cannot be trained")
    if not 1 <= k <= d // N_VARS:
        raise ValueError(f"k must be between 1 and {d // N_VARS} at a {d}-dim site (got {k})")
    gen = generator(seed, "plant", form)
    if form == "none":
        return Plant(form, site, k, seed, None)
    if form == "rotated":
        return Plant(form, site, k, seed, random_rotation(d, gen))
    chosen = torch.randperm(d, generator=gen)[:N_VARS * k].tolist()
    units = tuple(tuple(sorted(chosen[v * k:(v + 1) * k])) for v in range(N_VARS))
    return Plant(form, site, k, seed, unit_permutation(units, d), units)


def unit_permutation(units: tuple[tuple[int, ...], ...], d: int) -> torch.Tensor:
    """The permutation P (d, d) whose coordinates h @ P list the units variable by variable,
    then the rest in order."""
    listed = [u for subset in units for u in subset]
    order = listed + [u for u in range(d) if u not in listed]
    return torch.eye(d)[:, order]


def iit_losses(model: MLP, plant: Plant, pairs) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(task loss, interchange loss, task logits) on a batch of 'both' pairs: the task BCE on
    the bases' labels y, and the BCE of the output after the planted interchange against the
    causal model's counterfactual labels. The bases' forward pass serves both."""
    base_h = model.hidden(pairs.base.x, plant.site)  # (n, d)
    source_h = model.hidden(pairs.sources, plant.site)  # (n, V, d)
    swapped = interchange(base_h, source_h, pair_mask(plant.var_mask, pairs.intervened),
                          plant.rotation)
    logits = model.forward_from(plant.site, torch.stack([base_h, swapped]))  # (2, n)
    bce = nn.functional.binary_cross_entropy_with_logits
    task = bce(logits[0], pairs.base.y.float())
    return task, bce(logits[1], counterfactual_labels("both", pairs).float()), logits[0]


def train_planted(cfg: RunConfig, plant: Plant, *, iit_weight: float = 1.0,
                  progress: Progress | None = None,
                  log_every: int = 100) -> tuple[MLP, pd.DataFrame]:
    """Train with task + iit_weight * interchange loss, each step on a fresh batch of pairs
    (train_batch_size bases, their sources); history has step, loss, task_loss, iit_loss,
    train_accuracy. Form 'none' is exactly `train_model`."""
    if plant.form == "none":
        return train_model(cfg, progress, log_every)
    recipe, entities = recipe_for(cfg), entities_for(cfg)
    gen = generator(cfg.seed, "iit", plant.form)
    model = new_model(cfg)
    opt = Adam(model.parameters(), lr=recipe.lr)  # torch's foreach Adam, bit for bit
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=recipe.steps,
                                                pct_start=0.1)
    rows, sums = [], torch.zeros(3)
    for step in range(1, recipe.steps + 1):
        pairs = sample_pairs(cfg.train.train_batch_size, N_VARS, entities, "train", gen)
        task, iit, logits = iit_losses(model, plant, pairs)
        opt.zero_grad(set_to_none=True)
        (task + iit_weight * iit).backward()
        opt.step()
        sched.step()
        sums += torch.stack([task.detach(), iit.detach(),
                             ((logits.detach() > 0) == pairs.base.y).float().mean()])
        if step % log_every == 0 or step == recipe.steps:
            n = step - (rows[-1]["step"] if rows else 0)
            task_l, iit_l, acc = (sums / n).tolist()
            rows.append({"step": step, "loss": task_l + iit_weight * iit_l, "task_loss": task_l,
                         "iit_loss": iit_l, "train_accuracy": acc})
            sums.zero_()
            if progress:
                progress(step / recipe.steps, f"IIT step {step}/{recipe.steps}")
    model.eval().requires_grad_(False)
    return model, pd.DataFrame(rows)
