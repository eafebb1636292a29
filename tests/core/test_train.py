"""core.train: recipes, reproducible training, and accuracy tables against oracles."""

import torch

from explorer.core.config import RunConfig, tiny
from explorer.core.handbuilt import equality_network
from explorer.core.train import (RECIPES, accuracy_table, entities_for, heldout_examples,
                                 recipe_for, task_accuracy, train_model)


def test_zero_means_the_activations_recipe():
    for activation, recipe in RECIPES.items():
        assert recipe_for(RunConfig().with_values(activation=activation)) == recipe
    mine = recipe_for(RunConfig().with_values(train_lr=0.5, train_steps=7))
    assert (mine.lr, mine.steps) == (0.5, 7)


def test_training_is_reproducible_and_learns():
    cfg = tiny(train_steps=300, seed=4)
    (a, hist_a), (b, hist_b) = train_model(cfg), train_model(cfg)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert hist_a.equals(hist_b)
    assert hist_a.loss.iloc[-1] < hist_a.loss.iloc[0]
    assert list(hist_a.step) == [100, 200, 300]


def test_accuracy_of_an_exact_network_is_one_and_tables_agree():
    cfg = RunConfig().with_values(eval_size=2000)
    model, examples = equality_network(4), heldout_examples(cfg)
    table = accuracy_table(model, examples)
    assert table.accuracy.tolist() == [1.0] * len(table)
    assert table.n.iloc[0] == 2000 == table.n.iloc[1:].sum()
    flipped = equality_network(4)  # the same network with its readout negated: all wrong
    flipped.readout.weight.mul_(-1)
    flipped.readout.bias.mul_(-1)
    assert task_accuracy(flipped, examples) == 0.0


def test_held_out_entities_never_appear_in_training():
    cfg = RunConfig().with_values(vocab_size=40, eval_size=500)
    vocab = entities_for(cfg).vocab
    test = heldout_examples(cfg).x.view(-1, 4)  # (examples x 4 entities, entity_dim)
    used = {tuple(row.tolist()) for row in test}
    train_half = {tuple(row.tolist()) for row in vocab[:20]}
    assert used and not used & train_half and used <= {tuple(r.tolist()) for r in vocab[20:]}
