"""One Findings spec: `python -m explorer findings` prints every available section of
SECTIONS, in order, from any directory, without importing torch; the budget frame, its
plateau and its reading agree with counts done by hand."""

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from explorer.study import findings, readings
from explorer.study.sections import (QUESTIONS, SECTIONS, all_readings, lacking, missing,
                                     of_question)

ROOT = Path(__file__).resolve().parents[2]


def synthetic_budget() -> pd.DataFrame:
    """relu: restart r of seed s succeeds from step 1000 * (r + 1) when r < s (seed 0 never);
    sigmoid never. 4 restarts, seeds 0-3, budgets 0, 300, 1000, 2000, 3000, 15000."""
    rows = []
    for a, s, r, step in itertools.product(("relu", "sigmoid"), range(4), range(4),
                                           (0, 300, 1000, 2000, 3000, 15000)):
        hit = a == "relu" and r < s and step >= 1000 * (r + 1)
        rows.append({"activation": a, "seed": s, "map": "orthogonal", "k": 8, "restart": r,
                     "step": step, "best_val_iia": 1.0 if hit else 0.6, "target": 1.0,
                     "success": hit, "test_iia": 0.99 if hit else 0.6, "target_test": 1.0})
    return pd.DataFrame(rows)


def test_budget_frame_plateau_and_reading_match_a_hand_count():
    frame = findings.budget_frame(synthetic_budget())
    relu = frame[frame.activation == "relu"].set_index(["seed", "step"])
    assert relu.loc[(3, 1000), "success"] == 0.25 and relu.loc[(3, 3000), "success"] == 0.75
    assert relu.loc[(0, 15000), "any_success"] == 0.0 and relu.loc[(1, 1000), "any_success"] == 1
    stops = findings.plateau(frame).set_index("activation")
    # pooled over seeds: 0, 0, 3/16, 5/16, 6/16, 6/16 -> stops changing at 3000
    assert stops.loc["relu", "plateau_step"] == 3000 and stops.loc["relu", "final"] == 6 / 16
    assert stops.loc["sigmoid", "plateau_step"] == 0 and stops.loc["sigmoid", "final"] == 0
    assert not stops.still_changing.any()
    text = readings.budget(frame)
    assert "| orthogonal k = 8 | relu | 0/16 (0%) | 6/16 (38%) | 3 of 4 |" in text
    assert "| 3,000 |" in text and "never succeeds" in text
    assert readings.held_out(synthetic_budget()).startswith(
        "Of the 6 restarts that succeed on validation pairs, 6 also score")
    rising = frame[frame.step < 15000]  # the last change now falls in the last interval
    assert findings.plateau(rising).set_index("activation").loc["relu", "still_changing"]


def test_every_section_answers_one_of_findings_six_questions():
    headings = {int(line[3:].split(".")[0]): line[3:].split(". ", 1)[1]
                for line in (ROOT / "FINDINGS.md").read_text().splitlines()
                if line[:3] == "## " and line[3:4].isdigit()}
    assert [q.number for q in QUESTIONS] == sorted(headings) == [1, 2, 3, 4, 5, 6]
    for question in QUESTIONS:  # each short title is the start of FINDINGS.md's heading
        assert headings[question.number].startswith(question.title.rstrip("?")), question
    assert {s.question for s in SECTIONS} == set(headings)  # each in 1..6, each answered
    assert len({q.label for q in QUESTIONS}) == len(QUESTIONS)


def test_sections_run_in_question_order_and_are_numbered_by_their_question():
    assert [s.question for s in SECTIONS] == sorted(s.question for s in SECTIONS)
    for question in QUESTIONS:
        numbered = [s for s in of_question(question.number) if not s.folded]
        letters = "abcdefgh"[:len(numbered)] if len(numbered) > 1 else [""]
        assert [s.title.split(" · ")[0] for s in numbered] == [
            f"{question.number}{letter}" for letter in letters], question.number
    assert [s.key for s in of_question(2)] == ["search success", "every restart",
                                               "search success against budget",
                                               "best IIA against budget", "stability"]


def test_readings_follow_the_sections_and_name_what_is_missing():
    data = {"budget": synthetic_budget()}
    assert list(all_readings(data)) == [s.key for s in SECTIONS if s.needs == ("budget",)]
    assert missing(data) == ["results", "study", "complexity", "planted"]
    assert missing({}) == ["results", "study", "budget", "complexity", "planted"]
    assert missing(data, of_question(2)) == ["study"]  # search and angles; budget is there
    assert missing({}, of_question(4)) == ["results", "study"]  # IIA vs k and maps
    assert missing(data, of_question(6)) == ["planted"]
    partial = {"search": pd.DataFrame(), "budget": synthetic_budget()}  # no basin, no maps...
    assert lacking(partial, of_question(2)) == {"study": ["stability"]}
    assert lacking(partial, of_question(3)) == {"study": ["basin", "maps"]}
    assert lacking(partial) == {  # the oracle: each section's parts, by hand
        "results": ["methods", "IIA vs k"], "study": ["probes", "stability", "basin", "maps",
                                                     "Boundless sizes"],
        "complexity": ["complexity"], "planted": ["planted"]}


def synthetic_planted():
    """Two ReLU rotated plants (one failed) and one localist, by hand: seed 0's orthogonal
    DAS reaches the planted IIA (0.99) with a 5-degree subspace at 300 and 1600 steps, seed
    1's only by IIA at 1600 (20 degrees); seed 2's plant failed."""
    rows = []
    def add(seed, form, curve, steps, method, iia, angle, planted=0.99, failed=False,
            hypothesis="both"):
        found = None if hypothesis != "both" else bool(iia >= planted - 0.02 and angle <= 10)
        rows.append(dict(activation="relu", form=form, seed=seed, curve=curve, das_steps=steps,
                         method=method, hypothesis=hypothesis, iia=iia, planted_iia=planted,
                         used_angle_deg=angle, max_angle_deg=80.0, found=found,
                         found_strict=False if found is not None else None,
                         plant_failed=failed, task_accuracy=0.5 if failed else 0.99))
    add(0, "rotated", False, 300, "orthogonal", 0.99, 5.0)
    add(0, "rotated", False, 300, "orthogonal", 0.51, 60.0, hypothesis="identity")
    add(1, "rotated", False, 300, "orthogonal", 0.90, 40.0)
    add(1, "rotated", False, 300, "orthogonal", 0.49, 60.0, hypothesis="identity")
    add(2, "rotated", False, 300, "orthogonal", 0.60, 40.0, planted=0.5, failed=True)
    for seed, (iia, angle) in ((0, (0.99, 5.0)), (1, (0.985, 20.0))):
        add(seed, "rotated", True, 1600, "orthogonal", iia, angle)
    add(2, "rotated", True, 1600, "orthogonal", 0.6, 40.0, planted=0.5, failed=True)
    add(0, "localist", False, float("nan"), "neuron", 0.99, 1.0)
    return pd.DataFrame(rows)


def test_planted_curve_and_reading_match_a_hand_count():
    table = synthetic_planted()
    curve = findings.planted_curve(table).set_index(["das_steps", "criterion"])
    assert curve.loc[(1600, "IIA"), "found"] == 1.0  # both plants that took, by IIA
    assert curve.loc[(1600, "IIA and subspace"), "found"] == 0.5  # seed 0 only
    assert curve.loc[(1600, "IIA"), "nets"] == 2  # the failed plant is left out
    text = readings.planted(table)
    assert text.startswith("3 of 4 plants took") and "relu rotated seed 2 (0.50)" in text
    assert "| orthogonal | 1 / 1 of 2 (IIA 0.945, 22°); at 1,600: 2 / 1 |" in text
    assert "neuron-wise search finds the plant in relu 1/1 networks" in text
    assert "identity 0.500" in text


def test_findings_cli_prints_every_section_from_anywhere_without_torch(tmp_path):
    code = ("import sys; from explorer import cli; rc = cli.main(['findings']); "
            "sys.exit(rc if 'torch' not in sys.modules else 7)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from explorer.store.tables import load

    shown = [line[3:] for line in done.stdout.splitlines() if line.startswith("## ")]
    available = [s for s in SECTIONS if s.available(load())]
    assert shown == [s.title for s in available]
    assert len(shown) >= 2  # the shipped data has sections
    heads = [line for line in done.stdout.splitlines() if line.startswith(("# ", "## "))]
    want = []  # each question's heading once, before its first section
    for section in available:
        question = QUESTIONS[section.question - 1]
        heading = f"# {question.number}. {question.title}"
        want += ([] if heading in want else [heading]) + [f"## {section.title}"]
    assert heads == want
