"""The words a reader meets beside every number (IIA, site, k, map, restarts, hypothesis),
once: as help tooltips on the widgets and metrics that show them, and as a short "How to
read this" per page. Text only."""

from __future__ import annotations

import streamlit as st

IIA = ("Interchange intervention accuracy: swap the aligned part of the site's state from a "
       "source input into a base input, finish the forward pass, and count how often the "
       "network's output equals the high-level model's counterfactual label (held-out pairs). "
       "0.5 is chance; the no-intervention baseline is what a swap that does nothing scores.")
CHANGED = ("IIA on the pairs whose counterfactual label differs from the base label only: "
           "there a swap that does nothing is always wrong.")
BASELINE = ("IIA of a swap that does nothing (the network's own output on the base): the "
            "floor a real alignment must rise above.")
SITE = ("Where in the network to intervene: 0 is the input (the 4 entity vectors), 1, 2, … "
        "the hidden layers' outputs.")
K = ("Dims per variable: how many (rotated) coordinates of the site each variable (V1, V2) "
     "owns and a swap replaces.")
MAP = ("The alignment map from the site's units to the coordinates that are swapped: "
       "orthogonal (a rotation, DAS), linear (any invertible matrix) or revnet (non-linear). "
       "The richer the map, the more any network aligns with any algorithm.")
RESTARTS = ("Independent DAS fits from different starts (restart 0 at the neuron-wise answer "
            "by default); the one with the best validation IIA is reported.")
HYPOTHESIS = ("The high-level causal model whose variables are looked for: both equalities "
              "(V1 = a==b, V2 = c==d), the left one only, the identity of the first argument "
              "(a control that should score near chance) or the output alone.")

HOW_TO_READ = {
    "train": "Held-out task accuracy comes first: IIA on a network that has not learned the "
             "task (below 0.95) means little. The bar chart on top (on the shipped grid) gives "
             "DAS and neuron-wise IIA at every site: bars far above the chance line (0.5) mark "
             "sites where V1 and V2 can be swapped as variables.",
    "geometry": "PCA and probes are descriptive: a variable a linear probe decodes may still be "
                "unused by the network. Compare the probe with its shuffled-label control; "
                "only interventions (Neuron-wise search, DAS) test causal role.",
    "neuron": "IIA of swapping the best k units per variable (found by search) from a source "
              "into the base. Read it against the no-intervention baseline and against DAS: "
              "if DAS is no higher, the variables sit in individual units (localist).",
    "das": "DAS learns a map of the site; the first k coordinates per variable are swapped. "
           "IIA near 1 means the network behaves as if it computed V1 and V2 there; 0.5 is "
           "chance. Each control (untrained network, random features, random rotations) must "
           "stay near chance for the result to count; one model seed is one sample, so read "
           "it against the spread over seeds.",
    "swaps": "One base input and one source per variable: the table shows what the network "
             "says before and after each swap and what the high-level model expects. The "
             "chart below scores the same swap over all held-out pairs, per intervention type. "
             "The 'full layer' row copies the whole state from the first source: a sanity "
             "check of the intervention, not an alignment (against the counterfactual label "
             "it scores about 0.5 for any accurate network).",
    "share": "The link restores every setting; downloads carry the configuration, the "
             "package versions and the commit that produced them.",
}


def how_to_read_ui(page: str) -> None:
    """A collapsed 'How to read this' for the page (nothing for pages without one)."""
    text = HOW_TO_READ.get(page)
    if text:
        st.expander("How to read this", icon=":material/help:").markdown(text)
