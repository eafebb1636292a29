"""explorer.core.optim.Adam against torch.optim.Adam(foreach=True) as the oracle: the same
weights bit for bit, step by step under a schedule that moves lr and beta1 (OneCycleLR), with
a parameter that sits some steps out; and whole trainings (`train_model`, every activation)
equal to the training loop as it was written with torch's Adam and nn.Module calls. The
control: torch's fused Adam, the same maths in another order, is not bit-equal, so the
comparison can tell orders of operations apart."""

import json

import pytest
import torch
from torch import nn

from explorer.core.config import ACTIVATIONS, RunConfig
from explorer.core.optim import Adam
from explorer.core.task import sample_examples
from explorer.core.train import entities_for, generator, lr_schedule, new_model, train_model


def _params(seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(16, 12, generator=gen).requires_grad_(),
            torch.randn(16, generator=gen).requires_grad_(),
            torch.randn(1, 16, generator=gen).requires_grad_()]


def _steps(make_opt, steps: int = 60) -> list[torch.Tensor]:
    params, gen = _params(0), torch.Generator().manual_seed(1)
    opt = make_opt(params)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.03, total_steps=steps)
    for step in range(steps):
        for i, p in enumerate(params):  # the last parameter sits out every third step
            p.grad = None if (i == 2 and step % 3 == 0) else torch.randn(p.shape, generator=gen)
        opt.step()
        sched.step()
    return [p.detach() for p in params]


def test_each_step_is_torchs_foreach_adam_bit_for_bit():
    ours = _steps(lambda ps: Adam(ps, lr=0.03))
    torchs = _steps(lambda ps: torch.optim.Adam(ps, lr=0.03, foreach=True))
    assert all(torch.equal(a, b) for a, b in zip(ours, torchs))


def test_the_comparison_can_fail_fused_adam_rounds_differently():
    ours = _steps(lambda ps: Adam(ps, lr=0.03))
    fused = _steps(lambda ps: torch.optim.Adam(ps, lr=0.03, fused=True))
    assert not all(torch.equal(a, b) for a, b in zip(ours, fused))
    assert all(torch.allclose(a, b, atol=1e-3) for a, b in zip(ours, fused))  # same maths


def _train_as_written(cfg: RunConfig):
    """The training loop as it was written: torch's foreach Adam, nn.Module calls."""
    entities, gen = entities_for(cfg), generator(cfg.seed, "train")
    model = new_model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.train_lr, foreach=True)
    sched = lr_schedule(opt, max_lr=cfg.train.train_lr, steps=cfg.train.train_steps)
    losses = []
    for _ in range(cfg.train.train_steps):
        batch = sample_examples(cfg.train.train_batch_size, entities, "train", gen)
        h = batch.x
        for layer in model.hidden_layers:
            h = model.act(layer(h))
        logits = model.readout(h).squeeze(-1)
        loss = nn.BCEWithLogitsLoss()(logits, batch.y.float())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return model, losses


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_training_equals_the_loop_with_torchs_adam(activation):
    cfg = RunConfig().with_values(activation=activation, train_steps=60, train_lr=0.01,
                                  train_batch_size=256, seed=3)
    model, history = train_model(cfg, log_every=1)
    oracle, losses = _train_as_written(cfg)
    for (name, a), b in zip(model.state_dict().items(), oracle.state_dict().values()):
        assert torch.equal(a, b), name
    assert history.loss.tolist() == losses


@pytest.mark.parametrize("map_family", ["orthogonal", "linear", "revnet"])
def test_das_fits_equal_the_fit_with_torchs_default_adam(map_family, monkeypatch):
    """DAS's fitting loop (every map family, per-group learning rates) with this Adam and
    with torch's default Adam: the same report, every number."""
    from explorer.methods import fit
    from explorer.methods.experiment import run

    cfg = RunConfig().with_values(map=map_family, das_steps=100, train_steps=100, seed=1)
    ours = run(cfg).summary()
    monkeypatch.setattr(fit, "Adam", torch.optim.Adam)
    torchs = run(cfg).summary()
    ours.pop("timings"), torchs.pop("timings")
    assert json.dumps(ours, sort_keys=True) == json.dumps(torchs, sort_keys=True)  # NaN == NaN


def test_a_run_never_imports_dynamo():
    """torch's optimizer constructor imports torch._dynamo on first use (seconds, holding
    the GIL); a whole run in a fresh process must not: the control is torch's own Adam."""
    import subprocess
    import sys

    script = ("import sys, torch\n"
              "from explorer.core.config import RunConfig\n"
              "from explorer.methods.experiment import run\n"
              "run(RunConfig().with_values(das_steps=50, train_steps=50, max_exhaustive=70))\n"
              "print('torch._dynamo' in sys.modules)\n"
              "torch.optim.Adam([torch.zeros(1, requires_grad=True)])\n"
              "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]
