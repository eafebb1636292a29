"""Issue 12, runs: sweep tables that survive torn writes and keep every column, workers that
die with their parent, and command-line arguments checked before any work."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from explorer import cli
from explorer.core.config import RunConfig, tiny
from explorer.runs import sweep as sweep_module
from explorer.runs.sweep import parse_grid, plan, row_columns, sweep
from explorer.store import tables
from tests.app_driver import ROOT

BASE = tiny(train_steps=20, eval_size=64, das_steps=5, restarts=1, n_train_pairs=64,
            n_val_pairs=64, n_test_pairs=64, n_search_pairs=64, train_batch_size=64, k=1)
MEASURED = sorted({c for cfg in (BASE.with_values(hypothesis=h) for h in ("both", "left"))
                   for m in ("das", "neuron") for c in row_columns(cfg, m)})


# --- tables: atomic appends, torn lines, the header -------------------------------------

def test_a_torn_last_line_is_dropped_and_appends_go_on(tmp_path):
    path = tmp_path / "t.csv"
    tables.append_rows(path, [{"key": "a", "x": 1.5}, {"key": "b", "x": 2.5}])
    data = path.read_bytes()
    path.write_bytes(data + b"c,3.2")  # a kill mid-append: no newline
    assert tables.keys(path) == {"a", "b"}
    tables.append_rows(path, [{"key": "d", "x": 4.0}])
    tables.append_rows(path, [{"key": "e", "x": 5.0}])
    assert list(tables.read_table(path).key) == ["a", "b", "d", "e"]
    path.write_bytes(path.read_bytes() + b"f,6\x00\x00\x00\n")  # crash garbage, newline
    assert list(tables.read_table(path).key) == ["a", "b", "d", "e"]


def test_a_torn_header_starts_the_file_again(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"key,task_acc")
    tables.append_rows(path, [{"key": "a", "x": 1}], columns=["key", "x", "y"])
    frame = tables.read_table(path)
    assert list(frame.columns) == ["key", "x", "y"] and list(frame.key) == ["a"]


def test_a_failed_write_leaves_no_partial_line(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    tables.append_rows(path, [{"key": "a", "x": 1}])
    before = path.read_bytes()
    real_write = os.write

    def disk_full(fd, data):
        real_write(fd, bytes(data[:3]))
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(tables.os, "write", disk_full)
    with pytest.raises(OSError):
        tables.append_rows(path, [{"key": "b", "x": 2}])
    assert path.read_bytes() == before


def test_new_columns_widen_the_header_never_narrow_it(tmp_path):
    path = tmp_path / "t.csv"
    tables.append_rows(path, [{"key": "a", "iia_V1": 0.5}])
    tables.append_rows(path, [{"key": "b", "iia_V1": 0.6, "iia_V2": 0.7}])
    tables.append_rows(path, [{"key": "c"}])
    frame = tables.read_table(path)
    assert list(frame.columns) == ["key", "iia_V1", "iia_V2"]
    assert frame.iia_V2.isna().tolist() == [True, False, True] and frame.iia_V1[1] == 0.6


def test_widening_keeps_every_earlier_row_as_it_was_written(tmp_path):
    """A new column rewrites the file; the rows already there must read byte for byte as
    before (no 4 -> 4.0 where an empty cell elsewhere once made pandas read floats)."""
    path = tmp_path / "t.csv"
    tables.append_rows(path, [{"key": "a", "k": 4, "iia": 0.1, "n": None},
                              {"key": "b", "k": 8, "iia": 0.25, "n": 3}])
    before = path.read_text().splitlines()
    tables.append_rows(path, [{"key": "c", "k": 2, "iia": 1 / 3, "map_width": 8}])
    after = path.read_text().splitlines()
    assert after[0] == before[0] + ",map_width"
    assert after[1:3] == [line + "," for line in before[1:]]
    assert after[3] == f"c,2,{1 / 3!r},,8"


# --- sweeps -----------------------------------------------------------------------------

def test_the_schema_comes_from_the_grid_not_the_first_chunk(tmp_path):
    """Oracle: each row's filled measurement columns are exactly what `measure` returned."""
    grid = {"hypothesis": ["left", "both"], "k": ["1", "2"], "method": ["das", "neuron"]}
    out = tmp_path / "s.csv"
    frame = sweep(grid, out, BASE, chunk_size=4)  # chunk 1 is all "left"
    assert {"iia_V1", "iia_V2", "iia_both", "neurons"} <= set(frame.columns)
    for _, row in frame.iterrows():
        cfg = BASE.with_values(hypothesis=row.hypothesis, k=int(row.k))
        filled = {c for c in MEASURED if pd.notna(row[c])}
        assert filled == set(row_columns(cfg, row.method)), (row.hypothesis, row.method)
    # a sweep killed mid-append, then resumed twice: no ParserError, nothing lost or redone
    full = tables.read_table(out)
    out.write_bytes(out.read_bytes()[:-25])
    calls = []
    resumed = sweep(grid, out, BASE, chunk_size=4, progress=lambda f, m: calls.append(m))
    assert "7/8 points done (dropped a partial last line" in calls[0]
    again = sweep(grid, out, BASE, chunk_size=4)
    assert len(resumed) == len(again) == 8 and again.key.is_unique
    merged = again.set_index("key").loc[full.key]
    assert merged.iia.tolist() == full.iia.tolist()
    # a cut header: the restart rebuilds every column
    out.write_bytes(out.read_bytes()[:30])
    assert set(MEASURED) <= set(sweep(grid, out, BASE, chunk_size=4).columns)


def test_the_resume_widens_a_file_that_lost_columns(tmp_path):
    grid = {"hypothesis": ["left", "both"]}
    out = tmp_path / "s.csv"
    sweep({"hypothesis": ["left"]}, out, BASE)
    assert "iia_V2" not in tables.header(out)
    frame = sweep(grid, out, BASE)
    assert {"iia_V2", "iia_both"} <= set(frame.columns) and len(frame) == 2


@pytest.mark.parametrize("items, words", [
    (["k="], ["--grid", "k="]), (["k=,"], ["--grid", "non-empty"]),
    (["=1,2"], ["--grid", "'=1,2'", "NAME"]), (["k=1,,2"], ["non-empty"]),
    (["colour=red"], ["--grid", "colour", "unknown"]), (["k=1", "k=2"], ["twice"]),
    (["k=1_0"], ["--grid", "plain decimal"]), (["method=telepathy"], ["method"]),
    (["k"], ["NAME=V1"]),
])
def test_bad_grid_arguments_name_the_argument(items, words):
    with pytest.raises(ValueError) as err:
        parse_grid(items)
    for word in words:
        assert word in str(err.value)


def test_a_bad_grid_point_names_the_grid_field():
    with pytest.raises(ValueError, match=r"--grid k: must be between 1 and 8"):
        plan({"k": ["99"]}, RunConfig())


def _fail_if_called(*args, **kwargs):
    raise AssertionError("work started before the arguments were checked")


@pytest.fixture
def no_work(monkeypatch):
    from explorer.core import train
    from explorer.methods import experiment

    # the CLI imports these when a command runs, so patch them where they live
    for module, name in ((experiment, "run"), (train, "train_model"), (sweep_module, "sweep")):
        monkeypatch.setattr(module, name, _fail_if_called)


def _unwritable(tmp_path) -> str:
    if os.geteuid() != 0:
        path = tmp_path / "locked.json"
        path.write_text("")
        path.chmod(0o444)
        return str(path)
    if not os.path.exists("/sys/kernel/notes"):
        pytest.skip("no unwritable file for root here")
    return "/sys/kernel/notes"


@pytest.mark.parametrize("command, option", [
    (["run"], "--json"), (["run"], "--checkpoint"), (["train"], "--out"),
    (["sweep", "--grid", "k=1"], "--out")])
@pytest.mark.parametrize("kind", ["missing folder", "folder", "unwritable", "empty"])
def test_output_paths_are_checked_before_the_work(tmp_path, capsys, no_work, command, option,
                                                  kind):
    target = {"missing folder": str(tmp_path / "nope" / "x.out"), "folder": str(tmp_path),
              "unwritable": _unwritable(tmp_path) if kind == "unwritable" else "",
              "empty": ""}[kind]
    argv = [*command, "--quiet", option, target]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {option}:"), err
    assert "PosixPath" not in err[0] and len(err[0]) < 200


@pytest.mark.parametrize("args, option", [
    (["--workers", "0"], "--workers"), (["--workers", "-3"], "--workers"),
    (["--grid", "k="], "--grid"), (["--grid", "=1,2"], "--grid"), (["--grid", "k=,"], "--grid"),
])
def test_bad_sweep_arguments_exit_2_naming_the_argument(tmp_path, capsys, no_work, args,
                                                        option):
    assert cli.main(["sweep", "--quiet", "--out", str(tmp_path / "s.csv"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {option}"), err
    assert "error: --:" not in err[0]


def test_a_checked_output_path_that_did_not_exist_is_not_left_behind(tmp_path):
    path = tmp_path / "new.json"
    assert cli.output_path(str(path), "--json") == path and not path.exists()


# --- workers die with their parent ------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_parent_and_watch(argv: list[str], expect: int, patience: float) -> list[int]:
    """Start argv, wait for `expect` child processes, kill -9 the parent; the children
    still alive a few seconds later."""
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + patience
        while len(_children(proc.pid)) < expect and time.monotonic() < deadline:
            time.sleep(0.1)
        children = _children(proc.pid)
        assert len(children) >= expect, children
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while any(map(_alive, children)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return [c for c in children if _alive(c)]
    finally:
        if proc.poll() is None:
            proc.kill()
        for child in _children(proc.pid):
            os.kill(child, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_exit_when_the_parent_is_killed():
    code = ("import time\nfrom explorer.runs.executors import run_local\n"
            "list(run_local(time.sleep, [(60,), (60,), (60,)], workers=2))\n")
    left = _kill_parent_and_watch([sys.executable, "-c", code], expect=3, patience=30)
    assert left == [], f"still running: {left}"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_cli_sweep_leaves_no_workers(tmp_path):
    argv = [sys.executable, "-m", "explorer", "sweep", "--quiet", "--workers", "2",
            "--grid", "seed=0,1,2,3", "--train-steps", "3000", "--out", str(tmp_path / "s.csv")]
    left = _kill_parent_and_watch(argv, expect=3, patience=60)
    assert left == [], f"still running: {left}"
