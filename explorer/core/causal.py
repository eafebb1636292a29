"""High-level causal models of hierarchical equality, and their counterfactual labels.

Each hypothesis names its intermediate variables (Both Equality Relations: V1 = (a == b),
V2 = (c == d); Left Equality: V1; Identity of First Argument: V1 = a; Output Only: V1 = y,
the label itself, the "skip to the end" reading), computes them from an input, and
computes the output from them. An interchange intervention sets a variable to the value it
takes on that variable's own source input; the output is then the counterfactual label.
Equality is exact (the task copies entity vectors), so no tolerance is involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

Values = dict[str, torch.Tensor]


def entities_of(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Split (..., 4D) inputs into a, b, c, d, each (..., D)."""
    return x.unflatten(-1, (4, x.shape[-1] // 4)).unbind(-2)


def equal(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return (u == v).all(-1)


@dataclass(frozen=True)
class CausalModel:
    name: str
    title: str
    variables: tuple[str, ...]
    compute: Callable[[torch.Tensor], Values]  # x -> intermediate values
    output: Callable[[Values, torch.Tensor], torch.Tensor]  # values, x -> label (bool)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.compute(x), x)

    def counterfactual(self, base: torch.Tensor, sources: torch.Tensor,
                       intervened: torch.Tensor) -> torch.Tensor:
        """Label after setting each intervened variable to its value on its source.

        base (n, 4D); sources (n, n_vars, 4D); intervened (n, n_vars) bool -> (n,) bool.
        """
        values = self.compute(base)
        for i, var in enumerate(self.variables):
            swapped = self.compute(sources[:, i])[var]
            flag = intervened[:, i].view(-1, *([1] * (swapped.dim() - 1)))
            values[var] = torch.where(flag, swapped, values[var])
        return self.output(values, base)


def _both_compute(x):
    a, b, c, d = entities_of(x)
    return {"V1": equal(a, b), "V2": equal(c, d)}


def _left_compute(x):
    a, b, _, _ = entities_of(x)
    return {"V1": equal(a, b)}


def _left_output(values, x):
    _, _, c, d = entities_of(x)
    return values["V1"] == equal(c, d)


def _identity_output(values, x):
    _, b, c, d = entities_of(x)
    return equal(values["V1"], b) == equal(c, d)


def _output_compute(x):
    a, b, c, d = entities_of(x)
    return {"V1": equal(a, b) == equal(c, d)}


CAUSAL_MODELS: dict[str, CausalModel] = {
    "both": CausalModel("both", "Both Equality Relations", ("V1", "V2"), _both_compute,
                        lambda v, x: v["V1"] == v["V2"]),
    "left": CausalModel("left", "Left Equality", ("V1",), _left_compute, _left_output),
    "identity": CausalModel("identity", "Identity of First Argument", ("V1",),
                            lambda x: {"V1": entities_of(x)[0]}, _identity_output),
    # "skip to the end": one variable, the label itself (V1 = y); swapping it sets the label
    # to the source's, so the counterfactual label is the source's label
    "output": CausalModel("output", "Output Only", ("V1",), _output_compute,
                          lambda v, x: v["V1"]),
}


def counterfactual_labels(hypothesis: str, pairs) -> torch.Tensor:
    """Counterfactual labels of `explorer.core.task.Pairs` under a named hypothesis: (n,) bool."""
    return CAUSAL_MODELS[hypothesis].counterfactual(pairs.base.x, pairs.sources, pairs.intervened)
