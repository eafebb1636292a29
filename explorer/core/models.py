"""The MLP with named sites: site 0 is the input, site l (1..layers) the l-th hidden layer's
output after its activation. Any site can be read (`hidden`) and the forward pass resumed
from a replaced state (`forward_from`), for any leading batch shape."""

from __future__ import annotations

import math
from functools import partial

import torch
from torch import nn
from torch.nn import functional as F

from explorer.core.config import ModelConfig

ACTIVATIONS = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}
# what each module's forward calls: the forward passes below call these and F.linear
# directly (the same kernels; a module call's dispatch costs more than a 16-wide layer)
FUNCTIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
             "gelu": F.gelu, "leaky_relu": F.leaky_relu}
# the same kernels writing into their input (GELU has no in-place form): for `logits_from`
IN_PLACE = {"relu": torch.relu_, "sigmoid": torch.sigmoid_, "tanh": torch.tanh_,
            "gelu": F.gelu, "leaky_relu": partial(F.leaky_relu, inplace=True)}


def _uninitialized_linear(in_dim: int, out_dim: int) -> nn.Linear:
    """A Linear whose parameters are set later (reset_parameters or a checkpoint): built on
    the meta device, so torch's own init draws nothing from the global generator, then given
    empty CPU storage. (`nn.utils.skip_init` does the same but imports sympy: ~1 s.)"""
    layer = nn.Linear(in_dim, out_dim, device="meta")
    layer.weight = nn.Parameter(torch.empty(out_dim, in_dim))
    layer.bias = nn.Parameter(torch.empty(out_dim))
    return layer


class MLP(nn.Module):
    def __init__(self, in_dim: int, cfg: ModelConfig, gen: torch.Generator | None = None):
        super().__init__()
        self.cfg = cfg
        dims = [in_dim] + [cfg.width] * cfg.layers
        self.hidden_layers = nn.ModuleList(
            _uninitialized_linear(i, o) for i, o in zip(dims[:-1], dims[1:]))
        self.readout = _uninitialized_linear(cfg.width, 1)
        self.act = ACTIVATIONS[cfg.activation]()
        self._act = FUNCTIONS[cfg.activation]
        self._act_ = IN_PLACE[cfg.activation]
        if gen is not None:
            self.reset_parameters(gen)

    def reset_parameters(self, gen: torch.Generator) -> None:
        """torch's default Linear init (uniform +-1/sqrt(fan_in)), from a passed generator."""
        with torch.no_grad():
            for layer in [*self.hidden_layers, self.readout]:
                bound = 1 / math.sqrt(layer.in_features)
                for p in (layer.weight, layer.bias):
                    p.copy_(torch.rand(p.shape, generator=gen) * 2 * bound - bound)

    @property
    def n_sites(self) -> int:
        return len(self.hidden_layers) + 1

    def site_dim(self, site: int) -> int:
        return self.hidden_layers[0].in_features if site == 0 else self.cfg.width

    def _layer(self, layer: nn.Linear, h: torch.Tensor) -> torch.Tensor:
        """One hidden layer and its activation, as the modules compute them."""
        return self._act(F.linear(h, layer.weight, layer.bias))

    def hidden(self, x: torch.Tensor, site: int) -> torch.Tensor:
        """State at `site`: (..., site_dim)."""
        h = x
        for layer in self.hidden_layers[:site]:
            h = self._layer(layer, h)
        return h

    def hidden_states(self, x: torch.Tensor) -> list[torch.Tensor]:
        """States at every site, input first."""
        states = [x]
        for layer in self.hidden_layers:
            states.append(self._layer(layer, states[-1]))
        return states

    def forward_from(self, site: int, h: torch.Tensor) -> torch.Tensor:
        """Finish the forward pass from a state at `site`: logits (...,)."""
        for layer in self.hidden_layers[site:]:
            h = self._layer(layer, h)
        return F.linear(h, self.readout.weight, self.readout.bias).squeeze(-1)

    @torch.no_grad()
    def logits_from(self, site: int, h: torch.Tensor,
                    out: list[torch.Tensor] | None = None) -> torch.Tensor:
        """`forward_from` without autograd, each activation applied in place to its layer's
        fresh output (h itself is never written): the same numbers bit for bit, with half
        the memory traffic. For scoring many states at once (the neuron-wise search).

        `out` (`scoring_buffers`): preallocated layer outputs to write into, for a caller
        that scores chunk after chunk: megabyte blocks freed and taken again each chunk
        make glibc trim and regrow its heap, page faults that tripled the search's time."""
        lead, h = h.shape[:-1], h.reshape(-1, h.shape[-1])
        layers = [*self.hidden_layers[site:], self.readout]
        for i, layer in enumerate(layers):  # F.linear's own kernel: addmm(bias, h, W^T)
            z = torch.addmm(layer.bias, h, layer.weight.t(),
                            **({} if out is None else {"out": out[i][:len(h)]}))
            h = z if i == len(layers) - 1 else self._act_(z)
        return h.view(lead)

    def scoring_buffers(self, site: int, rows: int) -> list[torch.Tensor]:
        """One (rows, width) buffer per layer after `site`, and (rows, 1) for the readout."""
        return [torch.empty(rows, layer.out_features)
                for layer in [*self.hidden_layers[site:], self.readout]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_from(0, x)


def build_model(in_dim: int, cfg: ModelConfig, gen: torch.Generator) -> MLP:
    return MLP(in_dim, cfg, gen)
