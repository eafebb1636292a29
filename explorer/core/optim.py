"""Adam with less work per step: the arithmetic of `torch.optim.Adam(foreach=True)`, op for
op, so the weights it trains are torch's bit for bit (tests/core/test_optim.py), at a
fraction of the Python overhead.

On a network of a few hundred weights a training step is almost all framework overhead, and
torch's Adam spends about a quarter of it grouping tensors by device and dtype, reading
tensor step counts back and running hooks. This one keeps one list per moment and a float
step count, and reads the learning rate and beta1 from its param group on every step, so a
schedule (OneCycleLR cycles both) drives it as it drives torch's. No weight decay, amsgrad,
maximize or capturable: the engine uses none of them.

It is still a `torch.optim.Optimizer` (the schedulers ask), but it never calls that class's
constructor, `add_param_group` or `zero_grad`: torch wraps those in a dynamo guard whose
first call imports `torch._dynamo`, seconds of pure-Python import holding the GIL once per
process (2.4 s measured here, on a fresh process's first optimizer). The engine never
compiles, so nothing here needs dynamo. `narrow` drops rows of a parameter with their
moments (`methods.fit_networks`: networks that stop leave the batch).
"""

from __future__ import annotations

from collections import defaultdict

import torch


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.defaults = {"lr": lr, "betas": betas, "eps": eps}
        self.state: defaultdict[torch.Tensor, dict] = defaultdict(dict)
        groups = list(params)
        if not groups:
            raise ValueError("Adam got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups = [{**self.defaults, **group, "params": list(group["params"])}
                             for group in groups]
        seen = [id(p) for group in self.param_groups for p in group["params"]]
        if len(seen) != len(set(seen)):
            raise ValueError("a parameter appears in more than one group")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:
            raise ValueError("this Adam takes no closure")
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            states = [self._state(p) for p in params]
            exp_avgs = [s["exp_avg"] for s in states]
            exp_avg_sqs = [s["exp_avg_sq"] for s in states]
            grads = [p.grad for p in params]
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            for s in states:
                s["step"] += 1.0
            torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
            torch._foreach_mul_(exp_avg_sqs, beta2)
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
            step_size = [(lr / (1 - beta1 ** s["step"])) * -1 for s in states]
            denom = torch._foreach_sqrt(exp_avg_sqs)
            torch._foreach_div_(denom, [(1 - beta2 ** s["step"]) ** 0.5 for s in states])
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(params, exp_avgs, denom, step_size)

    def narrow(self, params: tuple[torch.Tensor, torch.Tensor], rows: torch.Tensor) -> None:
        """Replace parameter `old` by `new`, the rows `rows` of its first dim (`params` is
        (old, new)): the moments sliced the same way, the step count kept. Adam is
        elementwise, so the kept rows train on as they would have."""
        old, new = params
        for group in self.param_groups:
            group["params"] = [new if p is old else p for p in group["params"]]
        state = self.state.pop(old, None)
        if state:
            self.state[new] = {"step": state["step"], "exp_avg": state["exp_avg"][rows].clone(),
                               "exp_avg_sq": state["exp_avg_sq"][rows].clone()}

    def _state(self, p: torch.Tensor) -> dict:
        """p's moments (zero at the start, as torch's) and its float step count."""
        state = self.state[p]
        if not state:
            state.update(step=0.0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
        return state
