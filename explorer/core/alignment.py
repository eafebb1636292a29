"""An alignment: how one site's state is split among the high-level variables.

A map R (d, d) reads the state h as coordinates r = h @ R (None: the identity, r = h);
variable v owns the coordinates its mask row marks (var_mask (V, d), > 0.5), so v's
subspace is spanned by the columns of R at those coordinates. For an orthogonal R that is
also where a swap writes. Swaps go through the one primitive,
`core.interventions.interchange(base_h, source_h, mask, map, inverse)`.

Examples: DAS (a learned R, a 0/1 block mask), the best neuron-wise subsets (R = I, a 0/1
mask), the full-layer patch (R = I, all ones, the whole state from the first intervened
variable's source), no intervention (an all-zero mask), the exact input alignments
(`analysis.subspaces.input_oracles`). `analysis.swaps` scores them pair by pair;
`analysis.subspaces` measures the angles between their subspaces.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def subspace(map: torch.Tensor, var_mask: torch.Tensor, var: int) -> torch.Tensor:
    """Columns of the map (d, d) at the coordinates variable `var` owns: (d, k)."""
    return map[:, var_mask[var] > 0.5]


@dataclass(frozen=True)
class Alignment:
    name: str
    var_mask: torch.Tensor  # (V, d)
    map: torch.Tensor | None = None  # (d, d); None = the identity (neuron-wise, full layer)
    inverse: torch.Tensor | None = None  # (d, d); None = map^T
    first_source_only: bool = False  # full layer: the whole state from the first source

    @property
    def k(self) -> int:
        """Coordinates the first variable owns."""
        return int((self.var_mask[0] > 0.5).sum())

    def subspace(self, var: int) -> torch.Tensor:
        """Variable `var`'s subspace: (d, k) columns of the map (of I when there is none)."""
        d = self.var_mask.shape[-1]
        return subspace(torch.eye(d) if self.map is None else self.map, self.var_mask, var)
