"""The Findings report as one spec: the app's Findings page and `python -m explorer findings`
both walk SECTIONS, so the two cannot drift apart.

A section answers one of FINDINGS.md's six questions (`QUESTIONS`, by number; SECTIONS runs
in their order and a subheader's number is its question's, "2b" for the second), needs some
data parts (all present, or it is skipped), builds its chart's frame from the data, names
its chart builder in `explorer.plots.findings` (the page draws it; the CLI has no charts, so
this module imports no altair), and fills its reading in from the data. Pure pandas, like
the frames and readings it uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from explorer.store.paths import REGENERATE
from explorer.study import findings as f
from explorer.study import readings as r

Data = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Question:
    number: int  # FINDINGS.md's "## N."
    title: str  # its heading, shortened
    label: str  # a few words for the page's question selector


QUESTIONS = (
    Question(1, "Does the network compute (a == b) and (c == d)?", "Variables"),
    Question(2, "Is the right alignment easy to find?", "Finding it"),
    Question(3, "Why would a 4-dim search fail with sigmoid but succeed with ReLU?",
             "Sigmoid vs ReLU"),
    Question(4, "How many dims does each concept need?", "Dims"),
    Question(5, "How much of an alignment does the map supply?", "Map complexity"),
    Question(6, "Ground truth: with the answer planted, which search finds it?", "Planted"),
)


@dataclass(frozen=True)
class Section:
    key: str  # the reading's short name (the CLI's heading)
    question: int  # the number of the question in QUESTIONS it answers
    title: str  # the page's subheader
    needs: tuple[str, ...]  # data parts that must all be present
    frame: Callable[[Data], pd.DataFrame]  # the chart's frame
    chart: str | None  # builder name in explorer.plots.findings, applied to the frame
    reading: Callable[[Data], str]
    chart_args: tuple = ()  # further positional arguments of the builder
    folded: bool = False  # shown in a folded expander on the page

    def available(self, data: Data) -> bool:
        return all(part in data for part in self.needs)


def _das(data: Data) -> pd.DataFrame:
    return f.das_frame(data["results"])


def _methods(data: Data) -> pd.DataFrame:
    return f.method_frame(data["results"], data.get("probes"))


def _stability(data: Data) -> pd.DataFrame:
    return f.stability_frame(data["angles"], data.get("seed_angles"))


def _budget(data: Data) -> pd.DataFrame:
    return f.budget_frame(data["budget"])


RESTARTS_NOTE = ("Each dot is one restart on one model (300 steps); the dashed line is the "
                 "input oracle's IIA (site 0) or the best IIA found on that model (site 1). "
                 "Random starts at the input cluster near chance far below it at this budget; "
                 "the budget section below shows what longer searches find.")

SECTIONS: tuple[Section, ...] = (
    Section("methods", 1, "1a · DAS vs neuron-wise vs probe vs controls (k = 8)", ("results",),
            _methods, "method_comparison", lambda d: r.methods(_methods(d)),
            chart_args=(f.METHODS,)),
    Section("probes", 1, "1b · Linear probes (descriptive, not causal)", ("probes",),
            lambda d: d["probes"], "probes", lambda d: r.probes(d["probes"])),
    Section("search success", 2, "2a · Search success at 300 steps over restarts, learning rates "
            "and starts", ("search",), lambda d: d["search"], "search_success",
            lambda d: r.search_success(d["search"])),
    Section("every restart", 2, "Every restart's test IIA at 300 steps (dashed: the success "
            "target)", ("search",), lambda d: d["search"], "restart_iia",
            lambda d: RESTARTS_NOTE, folded=True),
    Section("search success against budget", 2, "2b · Search success against budget at the input",
            ("budget",), _budget, "budget_success",
            lambda d: r.budget(_budget(d)) + "\n\n" + r.held_out(d["budget"])),
    Section("best IIA against budget", 2, "2c · Best validation IIA against budget at the input",
            ("budget",), _budget, "budget_iia", lambda d: r.budget_iia(_budget(d))),
    Section("stability", 2, "2d · Stability: principal angles between learned subspaces",
            ("angles",), lambda d: _stability(d).query("k == 8"), "angles",
            lambda d: r.stability(_stability(d))),
    Section("basin", 3, "3a · Why the input search is hard: IIA near the exact answer",
            ("basin",), lambda d: d["basin"], "basin", lambda d: r.basin(d["basin"])),
    Section("maps", 3, "3b · Orthogonal vs general linear vs Boundless DAS", ("maps",),
            lambda d: d["maps"], "map_comparison",
            lambda d: r.maps(d["maps"], f.boundless_sizes(d["maps"]))),
    Section("IIA vs k", 4, "4a · IIA vs k per activation and site", ("results",),
            lambda d: _das(d)[["activation", "site", "k", "seed", "iia"]], "iia_vs_k",
            lambda d: r.iia_vs_k(_das(d))),
    Section("Boundless sizes", 4, "4b · Dims Boundless DAS keeps per variable", ("maps",),
            lambda d: f.boundless_sizes(d["maps"]), "boundless_sizes",
            lambda d: r.sizes(f.boundless_sizes(d["maps"]))),
    Section("complexity", 5, "5 · How much of an alignment does the map supply? (the "
            "complexity dial)", ("complexity",), lambda d: f.complexity_frame(d["complexity"]),
            "complexity_ladder", lambda d: r.complexity(d["complexity"]),
            chart_args=(f.MAP_ORDER,)),
    Section("planted", 6, "6 · Ground truth: which search finds a planted alignment, and at "
            "what budget", ("planted",), lambda d: f.planted_curve(d["planted"]),
            "planted_recovery", lambda d: r.planted(d["planted"])),
)

# which command regenerates a missing part; the report names it once per command
SOURCE = {"results": "results", "budget": "budget", "complexity": "complexity",
          "planted": "planted"}


def of_question(number: int) -> tuple[Section, ...]:
    """The sections that answer question `number`, in the report's order."""
    return tuple(s for s in SECTIONS if s.question == number)


def lacking(data: Data, sections: tuple[Section, ...] = SECTIONS) -> dict[str, list[str]]:
    """The regenerate commands' names ('results', 'study', 'budget', ...) whose data some of
    these sections lack -> those sections' keys, in REGENERATE's order."""
    found: dict[str, list[str]] = {}
    for section in sections:
        for name in {SOURCE.get(part, "study") for part in section.needs if part not in data}:
            found.setdefault(name, []).append(section.key)
    return {name: found[name] for name in REGENERATE if name in found}


def missing(data: Data, sections: tuple[Section, ...] = SECTIONS) -> list[str]:
    """The regenerate commands' names whose data these sections lack."""
    return list(lacking(data, sections))


def all_readings(data: Data) -> dict[str, str]:
    """Every reading the data allows, by section key, in the report's order."""
    return {s.key: s.reading(data) for s in SECTIONS if s.available(data)}
