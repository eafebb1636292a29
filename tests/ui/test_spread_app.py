"""Issue 11: the seed spread of any configuration on demand (DAS page, off the shipped grid):
'Run seeds 0-4' runs the batched five-seed job and shows each seed's numbers, which must
equal the single-seed pipeline's (explorer.methods.experiment.run) for that seed."""

import pytest

from app.spread import SEEDS
from explorer.core.config import RunConfig
from explorer.methods.experiment import run
from tests.app_driver import clear_caches, click, goto, metric, open_app

SMALL = dict(train_steps="200", train_batch_size="256", eval_size="256", das_steps="20",
             restarts="1", k="2", n_train_pairs="256", n_val_pairs="128", n_test_pairs="256",
             n_search_pairs="128", seed="3")


@pytest.fixture(scope="module", autouse=True)
def fresh_caches():
    clear_caches()


def test_run_seeds_shows_every_seed_equal_to_its_own_run():
    at = open_app({**SMALL, "page": "train"})
    click(at, "train_button")
    goto(at, "das")
    assert metric(at, "Precomputed DAS IIA") is None  # off the grid
    click(at, "seeds_button")
    table = next(df.value for df in at.dataframe if "das_iia" in df.value.columns)
    assert list(table.seed) == list(SEEDS)
    base = RunConfig.from_flat({**RunConfig().to_flat(), **{k: type(v)(SMALL[k]) for k, v in
                                RunConfig().to_flat().items() if k in SMALL}})
    for seed in (SEEDS[0], SEEDS[-1]):
        one = run(base.with_values(seed=seed))
        row = table[table.seed == seed].iloc[0]
        assert row.das_iia == one.das.test.iia and row.neuron_iia == one.neuron.test.iia
        assert row.task_accuracy == one.task_accuracy
    mean = table.das_iia.mean()
    assert metric(at, "DAS IIA (mean ± SD)").startswith(f"{mean:.3f} ± ")


def test_on_the_shipped_grid_the_precomputed_table_shows_the_spread_instead():
    at = open_app({"page": "das"})
    assert metric(at, "Precomputed DAS IIA") is not None
    assert not [b for b in at.button if b.key == "seeds_button"]
