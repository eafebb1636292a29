"""app/session.py lists the whole session state: no module of the app names a session key
by a string of its own, the keys are distinct, and each says what it holds. The check is
shown to fail on planted literal keys."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app import params, session

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "streamlit_app.py", *sorted((ROOT / "app").rglob("*.py"))]
METHODS = {"get", "setdefault", "pop", "__contains__"}


def _is_state(node: ast.AST, aliases: set[str]) -> bool:
    """`st.session_state`, or a name bound to it (`ss = st.session_state`)."""
    if isinstance(node, ast.Attribute) and node.attr == "session_state":
        return True
    return isinstance(node, ast.Name) and node.id in aliases


def literal_keys(source: str) -> list[str]:
    """String literals used as session-state keys: state["x"], state.get("x"),
    .setdefault / .pop("x"), "x" in state, state.update(x=...)."""
    tree = ast.parse(source)
    aliases = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
               and _is_state(node.value, set()) for t in node.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_state(node.value, aliases):
            keys = [node.slice]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and _is_state(node.func.value, aliases) and node.func.attr in METHODS | {"update"}):
            keys = node.args[:1] + [ast.Constant(k.arg) for k in node.keywords if k.arg]
        elif isinstance(node, ast.Compare) and any(_is_state(c, aliases) for c in node.comparators):
            keys = [node.left]
        else:
            continue
        found += [k.value for k in keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return found


def test_no_module_names_a_session_key_by_a_literal():
    assert len(SOURCES) > 20
    found = {path.name: literal_keys(path.read_text()) for path in SOURCES
             if path.name != "session.py"}
    assert {name: keys for name, keys in found.items() if keys} == {}


@pytest.mark.parametrize("line, key", [
    ('st.session_state["_mine"] = 1', "_mine"),
    ('ss = st.session_state\nx = ss.get("page")', "page"),
    ('if "_seen" in st.session_state: pass', "_seen"),
    ('st.session_state.setdefault("_jobs", {})', "_jobs"),
    ('st.session_state.update(swap_draw=2)', "swap_draw"),
])
def test_the_check_finds_a_planted_literal_key(line, key):
    assert literal_keys("import streamlit as st\n" + line) == [key]
    assert literal_keys("import streamlit as st\nKEY = 'x'\nst.session_state[KEY] = 1") == []


def test_keys_are_distinct_and_bookkeeping_never_meets_a_field():
    assert len(set(session.ALL_KEYS)) == len(session.ALL_KEYS)
    assert all(key.startswith("_") for key in session.BOOKKEEPING)
    assert not any(key.startswith("_") for key in session.CONFIG_KEYS + session.VIEW_KEYS)
    assert tuple(params.VIEWS) == session.VIEW_KEYS  # every view setting rides in the link


def test_every_key_says_what_it_holds():
    """Each key constant (NAME = "key") carries its one-line comment."""
    lines = [line for line in (ROOT / "app" / "session.py").read_text().splitlines()
             if re.match(r'[A-Z_]+ = "', line)]
    assert len(lines) == len(session.ALL_KEYS) - len(session.CONFIG_KEYS)
    assert [line for line in lines if "  # " not in line] == []
