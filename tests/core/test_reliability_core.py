"""Issue 12, core: strict number parsing, short echoes, the memory budget, O(examples)
vocabulary sampling and a learning-rate schedule for every allowed step count."""

import math
import subprocess
import sys

import pytest
import torch

from explorer.core.config import (MEMORY_BUDGET, ConfigError, RunConfig, memory_estimate,
                                  memory_terms, tiny, validate)
from explorer.core.task import Entities, distinct_indices
from explorer.core.train import lr_schedule, train_model
from tests.app_driver import ROOT


@pytest.mark.parametrize("text", ["1_6", "١٦", "16.0", "①", "²", "--5", "0x10", "1e1", "",
                                  " "])
def test_int_fields_take_plain_decimal_integers_only(text):
    with pytest.raises(ConfigError, match="plain decimal integer") as err:
        RunConfig.from_flat({"width": text})
    assert err.value.field == "width"


@pytest.mark.parametrize("value", [16.0, True, None, [16]])
def test_int_fields_reject_non_integer_values(value):
    with pytest.raises(ConfigError, match="width"):
        RunConfig.from_flat({"width": value})


def test_plain_numbers_still_parse():
    cfg = RunConfig.from_flat({"width": "32", "seed": " 7 ", "das_lr": "2e-2", "train_lr": 0,
                               "k": 4})
    assert (cfg.model.width, cfg.seed, cfg.das.das_lr, cfg.train.train_lr) == (32, 7, 0.02, 0.0)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e999", "NaN", float("nan"),
                                  float("inf"), "0,01", "1_0"])
def test_float_fields_reject_non_finite_and_lenient_numbers(text):
    with pytest.raises(ConfigError, match="finite decimal number"):
        RunConfig.from_flat({"train_lr": text})


def test_error_messages_cut_long_values():
    for values in ({"seed": "9" * 100_000}, {"activation": "x" * 100_000}):
        with pytest.raises(ConfigError) as err:
            validate(RunConfig.from_flat(values))
        assert len(str(err.value)) < 200, str(err.value)[:300]
    with pytest.raises(ConfigError) as err:  # an int too long even to print
        validate(RunConfig().with_values(seed=10**100_000))
    assert len(str(err.value)) < 200


def test_memory_budget_rejects_oversized_runs_naming_the_field():
    big = RunConfig().with_values(eval_size=1_000_000, entity_dim=32, width=128)
    with pytest.raises(ConfigError, match="budget") as err:
        validate(big)
    assert err.value.field == "eval_size"
    hinted = int(err.value.message.split("at most about ")[1].split()[0].replace(",", ""))
    assert memory_estimate(big.with_values(eval_size=hinted)) <= MEMORY_BUDGET
    validate(big.with_values(eval_size=hinted))  # the suggested value is accepted
    with pytest.raises(ConfigError) as err:
        validate(RunConfig().with_values(restarts=32, n_test_pairs=1_000_000))
    assert err.value.field == "n_test_pairs"


def test_every_field_at_its_app_maximum_fits_the_budget():
    from app.widgets import ALIGNMENT, NETWORK, SEARCH_BUDGET, TRAINING
    for field in (*NETWORK, *TRAINING, *ALIGNMENT, *SEARCH_BUDGET):
        if field.high is not None and field.name != "seed":
            validate(RunConfig().with_values(**{field.name: field.high}))
    validate(tiny())
    validate(RunConfig().with_values(vocab_size=100_000, eval_size=100_000))


def test_estimate_bounds_the_tensors_actually_built():
    """Oracle: the held-out examples' and the DAS pairs' own tensors, measured."""
    from explorer.core.train import heldout_examples, new_model
    from explorer.core.pairs import pair_set
    cfg = RunConfig().with_values(eval_size=20_000, n_test_pairs=5000, width=32)
    terms = {name: size for _, name, size in memory_terms(cfg)}
    examples = heldout_examples(cfg)
    assert terms["eval_size"] >= 2 * examples.x.nbytes
    test = pair_set(new_model(cfg), cfg).test
    assert terms["n_test_pairs"] >= test.base_h.nbytes + test.source_h.nbytes


MEASURED = [  # peak RSS increase of experiment.run (20 training steps, 5-20 DAS steps), MiB
    (dict(restarts=16, n_val_pairs=10_000, n_test_pairs=10_000, entity_dim=32, width=128, k=4,
          max_exhaustive=1), 10_672),  # the rotation copied per pair: 16 x 10,000 x 128^2
    (dict(restarts=16, das_batch_size=4096, entity_dim=32, width=128, k=4, max_exhaustive=1),
     4533),
    (dict(eval_size=200_000, entity_dim=32, width=128, k=4, max_exhaustive=1), 825),
    (dict(width=128), 563),
    (dict(restarts=8, n_val_pairs=1000, n_test_pairs=1000, width=128, entity_dim=32, k=4,
          max_exhaustive=1), 717),
    (dict(), 177),
]


@pytest.mark.parametrize("values, mib", MEASURED)
def test_the_estimate_bounds_the_peaks_measured_on_this_host(values, mib):
    assert memory_estimate(RunConfig().with_values(**values)) >= mib * 2**20


@pytest.mark.slow
def test_the_estimate_bounds_a_peak_measured_now():
    values = dict(train_steps=20, das_steps=20, restarts=8, n_val_pairs=1000,
                  n_test_pairs=1000, width=128, entity_dim=32, k=4, max_exhaustive=1)
    code = ("import json, resource, sys\nfrom explorer.core.config import RunConfig\n"
            "from explorer.core.rng import fix_threads\n"
            "from explorer.methods.experiment import run\n"
            "fix_threads()\nbefore = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "run(RunConfig().with_values(**json.loads(sys.argv[1])))\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    import json
    out = subprocess.run([sys.executable, "-c", code, json.dumps(values)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=True)
    assert memory_estimate(RunConfig().with_values(**values)) >= int(out.stdout.split()[-1]) * 1024


def test_distinct_indices_are_distinct_and_uniform():
    gen = torch.Generator().manual_seed(0)
    idx = distinct_indices(168_000, 4, 8, gen)
    assert idx.min() == 0 and idx.max() == 7
    assert (idx.sort(1).values.diff(1) > 0).all()
    codes = ((idx[:, 0] * 8 + idx[:, 1]) * 8 + idx[:, 2]) * 8 + idx[:, 3]
    counts = codes.unique(return_counts=True)[1].float()
    assert len(counts) == 8 * 7 * 6 * 5  # every ordered draw occurs
    expected = 168_000 / 1680
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 1679 + 6 * math.sqrt(2 * 1679)  # df = 1679: far inside for a uniform draw


def test_vocabulary_halves_stay_apart():
    cfg = RunConfig().with_values(vocab_size=16)
    entities = Entities.build(cfg.task, torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(1)
    for split, half in (("train", entities.vocab[:8]), ("test", entities.vocab[8:])):
        drawn = entities.sample(500, 4, split, gen).reshape(-1, 4)
        assert (drawn[:, None] == half[None]).all(-1).any(1).all()


def test_large_vocabulary_sampling_takes_memory_in_examples_not_vocabulary():
    code = (
        "import resource, torch\n"
        "from explorer.core.config import TaskConfig\n"
        "from explorer.core.task import Entities, sample_examples\n"
        "g = torch.Generator().manual_seed(0)\n"
        "e = Entities.build(TaskConfig(vocab_size=100000), g)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "sample_examples(2000, e, 'test', g)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    assert int(out.stdout.split()[-1]) < 50 * 1024  # KiB; the old (n x vocab/2) draw: 400 MB


@pytest.mark.parametrize("steps", [*range(1, 26), 100, 2500])
def test_the_schedule_works_for_every_step_count(steps):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=1.0)
    schedule = lr_schedule(opt, max_lr=0.5, steps=steps)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    assert all(math.isfinite(lr) and 0 <= lr <= 0.5 + 1e-12 for lr in lrs)
    assert max(lrs) > 0.4  # reaches (about) the peak
    if steps >= 20:  # oracle: torch's OneCycle, unchanged where it works
        q = torch.nn.Parameter(torch.zeros(1))
        ref_opt = torch.optim.Adam([q], lr=1.0)
        ref = torch.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=0.5, total_steps=steps,
                                                  pct_start=0.1)
        expected = []
        for _ in range(steps):
            expected.append(ref_opt.param_groups[0]["lr"])
            ref_opt.step()
            ref.step()
        assert lrs == expected


@pytest.mark.parametrize("steps", [1, 10])
def test_training_runs_for_few_steps(steps):
    cfg = tiny(train_steps=steps, train_batch_size=64, eval_size=64)
    model, history = train_model(cfg)
    assert history.step.iloc[-1] == steps
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_cli_train_with_ten_steps(tmp_path):
    from explorer.cli import main
    out = tmp_path / "m.safetensors"
    assert main(["train", "--quiet", "--train-steps", "10", "--train-batch-size", "64",
                 "--eval-size", "64", "--out", str(out)]) == 0
    assert out.stat().st_size > 0


def test_a_bad_vocabulary_size_names_zero_as_allowed():
    for bad in (1, 15, 100_001):
        with pytest.raises(ConfigError) as err:
            validate(RunConfig().with_values(vocab_size=bad))
        assert err.value.field == "vocab_size" and "must be 0" in str(err.value)
        assert "16 and 100000" in str(err.value)
    validate(RunConfig().with_values(vocab_size=0))
