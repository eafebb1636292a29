"""Interchange intervention accuracy: cached site states for a set of counterfactual pairs,
and the IIA report (overall, per intervention type, on label-changing pairs, beside the
no-intervention baseline)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.core.causal import CAUSAL_MODELS, counterfactual_labels
from explorer.core.interventions import interchange, pair_mask
from explorer.core.models import MLP
from explorer.core.task import Pairs


@dataclass(frozen=True)
class SiteData:
    """A frozen model's states at one site for a set of pairs, with their labels."""

    site: int
    base_h: torch.Tensor  # (n, d)
    source_h: torch.Tensor  # (n, V, d)
    intervened: torch.Tensor  # (n, V) bool
    kind: torch.Tensor  # (n,) index into type_names
    type_names: tuple[str, ...]
    counterfactual_label: torch.Tensor  # (n,) bool, from the high-level model
    base_label: torch.Tensor  # (n,) bool, the high-level label of the base
    base_pred: torch.Tensor  # (n,) bool, the network's prediction without intervention
    source_label: torch.Tensor  # (n, V) bool, the task's label of each source input

    def __len__(self) -> int:
        return self.base_h.shape[0]

    def take(self, index: torch.Tensor) -> "SiteData":
        """The pairs at `index` (a 1-d long tensor): index_select, twice as fast as
        indexing for the minibatch every fitting step takes."""
        def pick(t: torch.Tensor) -> torch.Tensor:
            return t.index_select(0, index)
        return SiteData(self.site, pick(self.base_h), pick(self.source_h),
                        pick(self.intervened), pick(self.kind), self.type_names,
                        pick(self.counterfactual_label), pick(self.base_label),
                        pick(self.base_pred), pick(self.source_label))


@torch.no_grad()
def site_data(model: MLP, site: int, pairs: Pairs, hypothesis: str) -> SiteData:
    base_h = model.hidden(pairs.base.x, site)
    return SiteData(
        site=site, base_h=base_h, source_h=model.hidden(pairs.sources, site),
        intervened=pairs.intervened, kind=pairs.kind, type_names=pairs.type_names,
        counterfactual_label=counterfactual_labels(hypothesis, pairs),
        base_label=CAUSAL_MODELS[hypothesis].run(pairs.base.x),
        base_pred=model.forward_from(site, base_h) > 0,
        source_label=CAUSAL_MODELS["both"].run(pairs.sources))


@dataclass(frozen=True)
class IIA:
    iia: float
    by_type: dict[str, float]
    changed: float  # on pairs whose counterfactual label differs from the base label
    baseline: float  # "intervention does nothing": base prediction vs counterfactual label
    n: int

    def row(self, prefix: str = "") -> dict[str, float]:
        """The flat columns of every table and CSV: iia, iia_label_changed, iia_<type> per
        intervention type, no_intervention_baseline (each name after `prefix`)."""
        cols = {"iia": self.iia, "iia_label_changed": self.changed,
                **{f"iia_{name}": value for name, value in self.by_type.items()},
                "no_intervention_baseline": self.baseline}
        return {prefix + name: value for name, value in cols.items()}

    def as_dict(self) -> dict:
        """The JSON report: the same names as `row`, per-type IIAs nested, and the count."""
        row = self.row()
        return {"iia": self.iia, "iia_by_type": dict(self.by_type),
                "iia_label_changed": row["iia_label_changed"],
                "no_intervention_baseline": row["no_intervention_baseline"], "n_pairs": self.n}


def _mean(x: torch.Tensor) -> float:
    return float(x.float().mean()) if x.numel() else float("nan")


def report(pred: torch.Tensor, data: SiteData) -> IIA:
    """IIA of predictions (n,) bool against the data's counterfactual labels."""
    hit = pred == data.counterfactual_label
    changed = data.counterfactual_label != data.base_label
    return IIA(iia=_mean(hit),
               by_type={name: _mean(hit[data.kind == i]) for i, name in enumerate(data.type_names)},
               changed=_mean(hit[changed]),
               baseline=_mean(data.base_pred == data.counterfactual_label), n=len(data))


def intervened_logits(model: MLP, data: SiteData, var_mask: torch.Tensor,
                      rotation: torch.Tensor | None = None,
                      inverse: torch.Tensor | None = None) -> torch.Tensor:
    """Logits after the interchange: var_mask (..., V, d) -> (..., n)."""
    h = interchange(data.base_h, data.source_h, pair_mask(var_mask, data.intervened),
                    rotation, inverse)
    return model.forward_from(data.site, h)


@torch.no_grad()
def evaluate(model: MLP, data: SiteData, var_mask: torch.Tensor,
             rotation: torch.Tensor | None = None, inverse: torch.Tensor | None = None) -> IIA:
    """Full IIA report for one alignment (var_mask (V, d), one rotation or None)."""
    return report(intervened_logits(model, data, var_mask, rotation, inverse) > 0, data)
