"""Controls that every alignment result carries, each able to fail (the table of names,
questions and pass/fail readings is `explorer.core.vocabulary.CONTROLS`).

* untrained network: the same DAS on an untrained network of the same shape, beside the
  spread of that network's output. An untrained 3x16 ReLU or sigmoid net typically outputs
  one class on every input (logit SD ~0.03): then every swap scores the constant
  classifier's rate and the control is vacuous, which `verdicts` says.
* random features: the same untrained hidden layers with only the readout fitted to the
  task (logistic regression), so the network's output varies; its DAS IIA is shown beside
  its task accuracy.
* random rotation: the block mask under RANDOM_ROTATIONS Haar-random rotations: mean and SD.
* cross-variable swap: V1's subspace swapped on V2-only pairs and V2's on V1-only pairs,
  scored against those pairs' counterfactual labels: near chance when each subspace carries
  only its own variable, high when either would do.
* closest signed permutation: the learned map snapped to units (localist or distributed?).
* full-layer patch: the whole state copied from the first intervened variable's source.
  Against the counterfactual label it scores P(label(source) = counterfactual label), ~0.5
  for any accurate network, so it answers nothing about specificity; against the source's
  own label it must equal task accuracy: a sanity check of the intervention.
The no-intervention baseline is part of every `IIA` report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from explorer.core.iia import IIA, SiteData, evaluate, intervened_logits, report
from explorer.core.interventions import random_rotation
from explorer.core.models import MLP
from explorer.core.vocabulary import CONTROLS, NEAR_CHANCE

RANDOM_ROTATIONS = 20  # draws of the random-rotation control
CONSTANT = 0.99  # an output that gives one class to this share of inputs is constant
MARGIN = 0.05  # "well below DAS IIA"
SANITY = 0.01  # least tolerance of full-layer source-label IIA vs task accuracy (else 3 SE)
LOCALIST = 0.02  # closest permutation within this of DAS IIA reads localist


@dataclass(frozen=True)
class OutputSpread:
    """How much a network's output varies over held-out inputs."""

    std: float  # SD of the logits
    majority_rate: float  # share of inputs given the more common class

    @property
    def constant(self) -> bool:
        return self.majority_rate >= CONSTANT


@dataclass(frozen=True)
class NetworkControl:
    """The same DAS on a control network (untrained, or random features)."""

    das: IIA
    output: OutputSpread
    task_accuracy: float


@dataclass(frozen=True)
class Controls:
    untrained: NetworkControl
    random_features: NetworkControl
    random_rotation: tuple[float, ...]  # IIA under each random rotation
    closest_permutation: IIA
    cross_variable: IIA  # single-variable test pairs only
    full_layer: IIA  # against the counterfactual label (~0.5 by construction)
    full_layer_source_label: IIA  # against the source's label (= task accuracy)

    def columns(self) -> dict[str, float]:
        """Every number, by its JSON key / CSV column (`vocabulary.CONTROLS`)."""
        rot = torch.tensor(self.random_rotation, dtype=torch.float64)
        return {
            "untrained_das_iia": self.untrained.das.iia,
            "untrained_output_std": self.untrained.output.std,
            "untrained_majority_rate": self.untrained.output.majority_rate,
            "random_features_das_iia": self.random_features.das.iia,
            "random_features_task_accuracy": self.random_features.task_accuracy,
            "random_rotation_iia": float(rot.mean()),  # today's key: now the mean
            "random_rotation_iia_mean": float(rot.mean()),
            "random_rotation_iia_sd": float(rot.std()) if len(rot) > 1 else float("nan"),
            "closest_permutation_iia": self.closest_permutation.iia,
            "cross_variable_iia": self.cross_variable.iia,
            "full_layer_iia": self.full_layer.iia,
            "full_layer_source_label_iia": self.full_layer_source_label.iia,
        }

    def iia_of(self, key: str) -> IIA | None:
        """The full IIA report behind a control's score (None for the random rotations)."""
        return {"untrained_das": self.untrained.das,
                "random_features_das": self.random_features.das,
                "closest_permutation": self.closest_permutation,
                "cross_variable": self.cross_variable,
                "full_layer": self.full_layer_source_label}.get(key)


def verdicts(controls: Controls, das_iia: float, task_accuracy: float) -> dict[str, str]:
    """Per control key: pass, fail, vacuous (cannot fail here), n/a, or for the permutation
    the reading (localist / distributed). Thresholds are this module's constants."""
    c = controls.columns()

    def below_das(net: NetworkControl) -> str:
        return "vacuous" if net.output.constant else (
            "pass" if net.das.iia <= das_iia - MARGIN else "fail")
    sd = c["random_rotation_iia_sd"]
    cross = c["cross_variable_iia"]
    return {
        "untrained_das": below_das(controls.untrained),
        "random_features_das": below_das(controls.random_features),
        "random_rotation": "pass" if das_iia > c["random_rotation_iia_mean"] + 3 * (
            0.0 if math.isnan(sd) else sd) else "fail",
        "cross_variable": "n/a" if math.isnan(cross) else (
            "pass" if cross <= NEAR_CHANCE else "fail"),
        "closest_permutation": "n/a" if math.isnan(c["closest_permutation_iia"]) else (
            "localist" if c["closest_permutation_iia"] >= das_iia - LOCALIST
            else "distributed"),
        "full_layer": "pass" if abs(c["full_layer_source_label_iia"] - task_accuracy)
        <= sanity_tolerance(task_accuracy, controls.full_layer_source_label.n) else "fail",
    }


def sanity_tolerance(accuracy: float, n: int) -> float:
    """How far two estimates of one accuracy may differ by sampling alone: 3 standard errors
    of the difference of an n-pair estimate and a held-out one at least as large."""
    return max(SANITY, 3 * math.sqrt(2 * accuracy * (1 - accuracy) / max(n, 1)))


def expectations() -> dict[str, dict[str, str]]:
    """The JSON's description of every control: its score's key, label, question, pass, fail."""
    return {c.key: {"score": c.column, "label": c.label, "question": c.question,
                    "pass": c.passes, "fail": c.fails} for c in CONTROLS}


def closest_signed_permutation(rotation: torch.Tensor) -> torch.Tensor:
    """The signed permutation P maximizing <P, R> (Hungarian assignment on |R|): (d, d)."""
    from scipy.optimize import linear_sum_assignment  # here: ~0.5 s to import

    rows, cols = linear_sum_assignment(rotation.abs().numpy(), maximize=True)
    perm = torch.zeros_like(rotation)
    perm[rows, cols] = torch.sign(rotation[rows, cols])
    return perm


@torch.no_grad()
def output_spread(model: MLP, x: torch.Tensor) -> OutputSpread:
    logits = model(x)
    positive = float((logits > 0).float().mean())
    return OutputSpread(float(logits.std()), max(positive, 1.0 - positive))


@torch.no_grad()
def fit_readout(model: MLP, x: torch.Tensor, y: torch.Tensor, *, ridge: float = 1e-3,
                iterations: int = 25) -> MLP:
    """Refit the model's readout (its last Linear) to labels y (n,) bool by ridge-regularized
    logistic regression (Newton steps, float64) on the last hidden layer's features of x;
    the hidden layers are untouched. Changes the model in place and returns it."""
    feats = model.hidden(x, len(model.hidden_layers)).double()
    mean, scale = feats.mean(0), feats.std(0).clamp_min(1e-8)
    z = torch.cat([(feats - mean) / scale, torch.ones(len(feats), 1, dtype=feats.dtype)], 1)
    w, target = torch.zeros(z.shape[1], dtype=z.dtype), y.double()
    penalty = ridge * len(z) * torch.eye(z.shape[1], dtype=z.dtype)
    penalty[-1, -1] = 0.0  # no penalty on the bias
    for _ in range(iterations):
        p = torch.sigmoid(z @ w)
        grad = z.T @ (p - target) + penalty @ w
        hess = (z * (p * (1 - p)).unsqueeze(1)).T @ z + penalty
        w = w - torch.linalg.solve(hess, grad)
    weight = w[:-1] / scale
    model.readout.weight.copy_(weight.unsqueeze(0).float())
    model.readout.bias.copy_((w[-1] - (weight * mean).sum()).view(1).float())
    return model


@torch.no_grad()
def random_rotation_iias(model: MLP, test: SiteData, var_mask: torch.Tensor,
                         gen: torch.Generator, *,
                         draws: int = RANDOM_ROTATIONS) -> tuple[float, ...]:
    """IIA of the block mask under `draws` Haar-random rotations, batched."""
    d = test.base_h.shape[-1]
    rotations = torch.stack([random_rotation(d, gen) for _ in range(draws)])  # (draws, d, d)
    pred = intervened_logits(model, test, var_mask, rotations) > 0  # (draws, n)
    return tuple((pred == test.counterfactual_label).float().mean(-1).tolist())


def permutation_iia(model: MLP, test: SiteData, var_mask: torch.Tensor,
                    rotation: torch.Tensor) -> IIA:
    """The closest signed permutation's IIA; for a non-linear map (not a matrix) there is
    no such snap: every score is NaN and the verdict reads n/a."""
    if not isinstance(rotation, torch.Tensor):
        return not_applicable(test)
    return evaluate(model, test, var_mask, closest_signed_permutation(rotation))



def not_applicable(test: SiteData) -> IIA:
    """An IIA report of NaNs: a control that does not apply to this map family."""
    nan = float("nan")
    return IIA(nan, {name: nan for name in test.type_names}, nan, nan, len(test))


def cross_variable_iia(model: MLP, test: SiteData, var_mask: torch.Tensor,
                       rotation: torch.Tensor | None = None,
                       inverse: torch.Tensor | None = None) -> IIA:
    """On the single-variable test pairs, swap the *other* variable's subspace (V1's on
    V2-only pairs, V2's on V1-only pairs) and score against the counterfactual label. NaN
    with one variable."""
    single = test.intervened.sum(-1) == 1
    if var_mask.shape[0] < 2:
        single = torch.zeros_like(single)
    data = test.take(single.nonzero()[:, 0])
    if not len(data):
        return report(torch.zeros(0, dtype=torch.bool), data)
    return evaluate(model, data, var_mask.flip(0), rotation, inverse)


def full_layer_iia(model: MLP, test: SiteData) -> IIA:
    """Copy the entire state from the first intervened variable's source, scored against
    the counterfactual label (~0.5 for an accurate network, whatever its alignment)."""
    return evaluate(model, _first_source_only(test), torch.ones(test.source_h.shape[1:]))


def full_layer_source_label_iia(model: MLP, test: SiteData) -> IIA:
    """The same full-layer patch scored against the task's label of that source: the
    network then answers for the source, so this must equal task accuracy."""
    first = test.intervened.int().argmax(-1)
    label = test.source_label[torch.arange(len(test)), first]
    patched = replace(_first_source_only(test), counterfactual_label=label)
    return evaluate(model, patched, torch.ones(test.source_h.shape[1:]))


def _first_source_only(test: SiteData) -> SiteData:
    first = test.intervened.int().argmax(-1)
    only_first = torch.nn.functional.one_hot(first, test.intervened.shape[1]).bool()
    return replace(test, intervened=only_first)


def permutation_units(rotation: torch.Tensor, var_mask: torch.Tensor) -> list[list[int]] | None:
    """Units the snapped permutation assigns to each variable's rotated coordinates (None
    for a non-linear map, which has no permutation snap)."""
    if not isinstance(rotation, torch.Tensor):
        return None
    perm = closest_signed_permutation(rotation)  # h @ perm: coordinate j reads unit argmax
    units = perm.abs().argmax(0)  # (d,) unit feeding each rotated coordinate
    return [sorted(units[row.bool()].tolist()) for row in var_mask]

