"""Progress: a run's bar only moves forward, and every phase of it reports under its name,
including the ones that run in a second thread beside another (core.progress.side_by_side)."""

import threading

from explorer.core.config import RunConfig
from explorer.core.progress import side_by_side
from explorer.methods.experiment import run

TINY = RunConfig().with_values(train_steps=60, train_batch_size=128, eval_size=256,
                               das_steps=20, restarts=2, k=2, n_train_pairs=128,
                               n_val_pairs=64, n_test_pairs=128, n_search_pairs=64)


def test_side_by_side_is_the_weighted_sum_and_never_moves_back():
    seen = []
    parts = side_by_side(lambda f, m: seen.append((f, m)), {"a": 0.75, "b": 0.25}, 0.2, 0.6)
    parts["a"](0.5, "x")
    parts["b"](1.0, "y")
    parts["a"](0.4, "z")  # a report below what a already said leaves a's share where it was
    assert [round(f, 6) for f, _ in seen] == [0.35, 0.45, 0.45]
    assert [m for _, m in seen] == ["a · x", "b · y", "a · z"]
    assert side_by_side(None, {"a": 1.0}) == {"a": None}


def test_side_by_side_from_two_threads_ends_at_the_top():
    seen, lock = [], threading.Lock()

    def record(f, m):
        with lock:
            seen.append(f)

    parts = side_by_side(record, {"a": 0.5, "b": 0.5})
    threads = [threading.Thread(target=lambda p=p: [p(i / 100, "") for i in range(101)])
               for p in parts.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(seen) == 1.0 and len(seen) == 202


def test_a_run_reports_every_phase_and_its_bar_never_goes_backwards():
    seen = []
    run(TINY, lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert all(b >= a - 1e-9 for a, b in zip(fractions, fractions[1:])), fractions
    assert fractions[-1] == 1.0
    for phase in ("training", "control networks", "neuron-wise search", "DAS", "controls"):
        assert any(m.startswith(phase) for _, m in seen), phase
