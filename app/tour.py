"""The first-visit path: the study's four questions in order, each naming the page and the
settings that answer it, with a button that moves the widgets and the page there (onto the
shipped grid, so the answer is on screen at once) and the Findings chart that answers it
(`app.findings.section_ui`, the Findings page's own section).

Shown on a session's first run when the link names nothing (a shared link opens on what it
shares); dismissed, it stays dismissed for the session; the sidebar's **Guided tour**
button opens it again.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app import findings, nearest, params, session
from app.session import TOUR_OPEN, TOUR_STEP, TOUR_WENT
from explorer.core.config import RunConfig
from explorer.store import paths, precomputed
from explorer.study.sections import SECTIONS

PAGE_TITLES = {"das": "DAS", "train": "Train", "findings": "Findings"}


@dataclass(frozen=True)
class Step:
    question: str
    look: str  # what to look at once there
    page: str  # app.params.PAGE_NAMES
    settings: dict  # the config fields it sets (everything else at the defaults)
    section: str  # the Findings section (explorer.study.sections) that answers it


STEPS = (
    Step("Do networks compute (a == b) and (c == d) as intermediate variables?",
         "DAS at the first hidden layer against the best neuron-wise subsets and every "
         "control: the controls sit near chance while DAS is far above it.",
         "das", {"activation": "relu", "site": 1, "k": 8, "hypothesis": "both"}, "methods"),
    Step("Is the right alignment easy to find?",
         "At the input (site 0) swapping the 8 coordinates of (a, b) is an exact alignment; "
         "DAS started at the neuron-wise answer (the default) keeps it, but random-start DAS "
         "finds it in only some restarts, after thousands of steps (the chart). Set "
         "**Restart 0 starts at** to random in the search budget to try it live.",
         "das", {"activation": "relu", "site": 0, "k": 8, "hypothesis": "both"},
         "search success against budget"),
    Step("Why does search fail more with sigmoid than ReLU, even at the input?",
         "Sigmoid at the input with 4 dims per variable, where no unit subset is exact (the "
         "answer is the difference a - b). Pin it (sidebar, **Compare**) and switch "
         "**Activation** to relu to see both on the same charts.",
         "das", {"activation": "sigmoid", "site": 0, "k": 4, "hypothesis": "both"},
         "best IIA against budget"),
    Step("How many dims does a concept need?",
         "One dim per variable at site 1. Move the **k** slider (instant on the shipped grid) "
         "and compare with k = 8.",
         "das", {"activation": "relu", "site": 1, "k": 1, "hypothesis": "both"}, "IIA vs k"),
)


def target(step: Step) -> dict:
    """The flat config a step's button sets: its settings over the defaults, moved onto the
    shipped grid (the nearest precomputed config that keeps every named setting)."""
    cfg = RunConfig.from_flat({**params.DEFAULTS, **step.settings})
    if precomputed.results_for(cfg).empty:
        keeps = [n for n in nearest.nearest(cfg) if not set(n.differences) & set(step.settings)]
        if keeps:
            return keeps[0].flat
    return cfg.to_flat()


def where(step: Step) -> str:
    named = " · ".join(f"{name} {value}" for name, value in step.settings.items())
    return f"**{PAGE_TITLES.get(step.page, step.page)}** page · {named}"


def _open() -> None:
    st.session_state[TOUR_OPEN] = True


def _close() -> None:
    st.session_state[TOUR_OPEN] = False


def _go(step: int) -> None:
    st.session_state[TOUR_STEP] = step


def _take(step: int) -> None:
    """Take me there: the widgets and page move to the step's target."""
    show = STEPS[step]
    nearest.show_config(target(show), show.page)
    st.session_state[TOUR_WENT] = step


def is_open() -> bool:
    """Whether the tour shows: open on a session's first run unless the link names something
    (a shared link opens on what it shares), then as the user left it."""
    ss = st.session_state
    if TOUR_OPEN not in ss:
        ss[TOUR_OPEN] = session.first_run() and not st.query_params.to_dict()
    return ss[TOUR_OPEN]


def reopen_ui() -> None:
    """The sidebar's way back to the tour."""
    st.sidebar.button("Guided tour: the four questions", key="tour_open_button",
                      on_click=_open, width="stretch", disabled=is_open())


def tour_ui() -> None:
    """The tour, while open: one question at a time, with Back / Next / Close."""
    if not is_open():
        return
    index = min(max(st.session_state.get(TOUR_STEP, 0), 0), len(STEPS) - 1)
    step, box = STEPS[index], st.container(border=True)
    box.markdown(f"**First visit? Four questions, in order.** {index + 1} of {len(STEPS)}: "
                 f"*{step.question}*")
    box.markdown(f"Where: {where(step)} (everything else as the shipped table ran it). "
                 f"{step.look}")
    go, back, forward, close = box.columns([3, 1, 1, 1])
    go.button("Take me there", key=f"tour_go_{index}", type="primary", on_click=_take,
              args=(index,), help="sets the sidebar's widgets and the page")
    back.button("Back", key="tour_back", on_click=_go, args=(index - 1,), disabled=index == 0)
    forward.button("Next", key="tour_next", on_click=_go, args=(index + 1,),
                   disabled=index == len(STEPS) - 1)
    close.button("Close", key="tour_close", on_click=_close,
                 help="the sidebar's Guided tour button opens it again")
    # once there, the chart folds away so that the page's own answer is on the first screen
    went = st.session_state.get(TOUR_WENT) == index
    with box.expander("The chart that answers it (from the Findings page)", expanded=not went):
        chart_ui(step)


def chart_ui(step: Step) -> None:
    section = next(s for s in SECTIONS if s.key == step.section)
    if section.available(findings.parts()):
        findings.section_ui(section)
        return
    what = "results" if "results" in section.needs else "budget" if "budget" in section.needs \
        else "study"
    st.info(f"No {what} data found: `{paths.REGENERATE[what]}` regenerates it.")
