"""Several MLPs of one shape and activation as one tensor batch, so one DAS run trains the
restarts of every model together (the per-step overhead is paid once, not once per model).

`StackedMLP(models).forward_from(site, h)` takes h (M * R, n, d): the first R rows belong to
model 0, the next R to model 1, ... (R = restarts per model), and returns logits (M * R, n),
the same as each model's own `forward_from` on its rows. A state without that leading dim
(n, d) goes through every model and gets the mean of their logits (n,): an ensemble, only
there so that callers which report one chosen alignment do not fail; do not read it as one
model's score.
"""

from __future__ import annotations

import torch
from torch import nn

from explorer.core.models import MLP


class StackedMLP(nn.Module):
    def __init__(self, models: list[MLP]):
        super().__init__()
        first = models[0]
        if any(m.cfg != first.cfg for m in models):
            raise ValueError("stacked models must share width, depth and activation")
        self.cfg, self.act, self.n_models = first.cfg, first.act, len(models)
        layers = [*first.hidden_layers, first.readout]
        weights = [torch.stack([[*m.hidden_layers, m.readout][i].weight.detach() for m in models])
                   for i in range(len(layers))]  # (M, out, in)
        biases = [torch.stack([[*m.hidden_layers, m.readout][i].bias.detach() for m in models])
                  for i in range(len(layers))]  # (M, out)
        for i, (w, b) in enumerate(zip(weights, biases)):
            self.register_buffer(f"w{i}", w.transpose(1, 2).contiguous())  # (M, in, out)
            self.register_buffer(f"b{i}", b.unsqueeze(1))  # (M, 1, out)
        self.n_layers = len(layers) - 1

    def _layer(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return getattr(self, f"w{i}"), getattr(self, f"b{i}")

    def forward_from(self, site: int, h: torch.Tensor) -> torch.Tensor:
        if h.dim() == 2:  # one state set for every model: the ensemble's mean logits
            shared = h.expand(self.n_models, *h.shape).reshape(self.n_models, 1, *h.shape)
            return self.forward_from(site, shared.flatten(0, 1)).mean(0)
        rows, n, d = h.shape
        if rows % self.n_models:
            raise ValueError(f"leading dim {rows} is not a multiple of {self.n_models} models")
        x = h.reshape(self.n_models, (rows // self.n_models) * n, d)  # (M, R * n, d)
        for i in range(site, self.n_layers):
            w, b = self._layer(i)
            x = self.act(torch.baddbmm(b, x, w))
        w, b = self._layer(self.n_layers)
        return torch.baddbmm(b, x, w).reshape(rows, n)
