"""The one table of an alignment result's controls: what each is called, which JSON key and
CSV column holds its score, the question it answers and what a pass and a fail look like;
and the methods' and map families' names in words (`METHOD_LABELS`: the code's key `neuron`
is, in anything a user reads, "neuron-wise search"; `MAP_WORDS`); and what "found" means
for a planted alignment (`IIA_TOLERANCE`, `ANGLE_TOLERANCE_DEG`: explorer.analysis.recovery
applies them, the findings count with them).

The engine (`explorer.methods.controls`), the JSON and command-line report, the sweep's CSV
row, the shipped-results lookups (`explorer.store.precomputed`), the app's DAS page and the
findings all read it from here. Pure data (no torch): the app draws precomputed tables from
it before the heavy imports of a cold start.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_APPLICABLE = "not applicable for a non-linear map"  # a matrix-only control on revnet
CHANCE = 0.5  # IIA or accuracy of a coin flip on the balanced labels
NEAR_CHANCE = 0.6  # an IIA at or below this reads "near chance" (the controls, the readings)


@dataclass(frozen=True)
class Control:
    key: str  # the engine's name for it (an attribute of `methods.controls.Controls`)
    column: str  # JSON "controls" key and CSV column of its score
    label: str  # what every page, table and report calls it
    question: str  # what it asks
    passes: str  # what a pass looks like
    fails: str  # what a fail looks like
    details: tuple[str, ...] = ()  # more JSON keys / CSV columns that go with it


CONTROLS = (
    Control("untrained_das", "untrained_das_iia", "untrained network (same DAS)",
            "does training matter?",
            "well below DAS IIA, on an untrained network whose output varies",
            "as high as DAS; vacuous when the untrained output is constant (then every swap "
            "scores the constant classifier's rate, and the control cannot fail)",
            ("untrained_output_std", "untrained_majority_rate")),
    Control("random_features_das", "random_features_das_iia",
            "random features (fitted readout)",
            "does the alignment need learned hidden layers? (the untrained network's layers, "
            "only its readout fitted to the task)",
            "well below DAS IIA (read it beside its task accuracy)",
            "as high as DAS: an untrained network with only its readout fitted aligns as well",
            ("random_features_task_accuracy",)),
    Control("random_rotation", "random_rotation_iia_mean", "random rotations",
            "is a learned map needed? (the same block mask under 20 random rotations: mean, SD)",
            "DAS IIA above the random rotations' mean + 3 SD",
            "DAS IIA within the random rotations' spread",
            ("random_rotation_iia_sd",)),
    Control("cross_variable", "cross_variable_iia", "cross-variable swap",
            "is the alignment variable-specific? (V1's subspace swapped on V2-only pairs, "
            "and V2's on V1-only pairs)",
            "near chance (0.5 or below): each subspace carries its own variable only",
            "near DAS IIA: either subspace does the other's job"),
    Control("closest_permutation", "closest_permutation_iia", "closest signed permutation",
            "localist or distributed?",
            "a reading, not a test: near DAS IIA reads localist (units carry the variables)",
            "well below DAS IIA reads distributed (the rotation mixes units)"),
    Control("full_layer", "full_layer_source_label_iia", "full-layer patch (source label)",
            "sanity check: copied whole, does the state make the network answer for the "
            "source?",
            "equals task accuracy (within sampling error): the whole state copied, the "
            "network answers for the source",
            "differs from task accuracy: the intervention or the pairs are broken. (Against the "
            "counterfactual label it scores about 0.5 by construction: full_layer_iia)",
            ("full_layer_iia",)),
)
BY_KEY = {c.key: c for c in CONTROLS}

# method key (CSV `method`, JSON keys) -> its name in user-facing text
METHOD_LABELS = {"das": "DAS", "neuron": "neuron-wise search"}

# map family (config `map`) -> (what DAS learned, as a noun; the same with an article and a
# gloss, for a sentence)
MAP_WORDS = {"orthogonal": ("rotation", "a rotation"),
             "linear": ("linear map", "an invertible linear map"),
             "revnet": ("RevNet map", "a RevNet map (a rotation, then coupling blocks)")}


def map_noun(family: str) -> str:
    """'rotation', 'linear map', 'RevNet map' (an unknown family: '<family> map')."""
    return MAP_WORDS.get(family, (f"{family} map",))[0]


def map_phrase(family: str) -> str:
    """'a rotation', 'an invertible linear map', ... (an unknown family: 'a map')."""
    return MAP_WORDS[family][1] if family in MAP_WORDS else "a map"


# a method found a planted alignment when its IIA is at least the plant's own minus this ...
IIA_TOLERANCE = 0.02
# ... and the subspace it swaps is within this angle of the directions the network reads
ANGLE_TOLERANCE_DEG = 10.0
