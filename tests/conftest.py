import pytest

from explorer.core.config import RunConfig
from explorer.core.rng import fix_threads
from explorer.core.train import heldout_examples, task_accuracy, train_model

fix_threads()


@pytest.fixture(scope="session")
def trained():
    """The default ReLU 3x16 model (seed 0), its config and held-out task accuracy. DAS here
    starts every restart at random (tests of the neuron-wise start ask for it)."""
    cfg = RunConfig().with_values(seed=0, n_train_pairs=2048,
                                  n_test_pairs=2048, das_steps=300, restarts=2,
                                  das_init="random")
    model, history = train_model(cfg)
    return model, cfg, task_accuracy(model, heldout_examples(cfg))
