"""Excitations across classes: the paper's Fig. 6 view of one SE layer, and how class-specific each depth is."""

import streamlit as st
from ui import models, results, show, state

from senet_lib.analysis.catalog import data_info
from senet_lib.analysis.figures import (
    class_profile_heatmap,
    excitation_distribution,
    probe_by_depth,
    specificity_by_depth,
)
from senet_lib.analysis.profiles import NEAR_CONSTANT_SPREAD

model = models.current_model()
loaded = model.loaded
st.title("Excitations across classes")
st.markdown(
    "The paper's finding (Sec. 7.2, Fig. 6): early SE layers excite channels alike for every class "
    "(class-agnostic features); deeper layers respond class by class; the very last ones saturate."
)
show.notice(model)
if show.require_se(model):
    layers = loaded.se_layers
    layer = st.selectbox("SE layer", layers, key=state.choose("keep.across.layer", layers, layers[-1]))
    validation = data_info(loaded.meta).validation_phrase()
    profile = loaded.profiles.get(layer)
    if profile is None:
        st.info(
            f"The sidecar of {loaded.label} holds no class profiles for {layer}. Compute them with "
            "`python -m senet_lib profile CHECKPOINT` (class means over the validation split)."
        )
    else:
        if profile.near_constant:
            st.info(
                f"{layer}'s gates hardly depend on the image: their spread (root mean square of each gate's "
                f"deviation from its mean over {validation}) is {profile.spread:.1e}, below {NEAR_CONSTANT_SPREAD:g}. "
                "The block scales every image alike, a fixed per-channel scale, so the rows below differ by "
                "amounts too small to matter, whatever η² says."
            )
        show.figure(
            class_profile_heatmap(profile.means, loaded.classes, layer),
            f"class-profiles-{layer}",
            f"Each row is one class's mean gate per channel over {validation} "
            f"({int(profile.counts.sum()):,} images). Rows that look alike: this layer treats all classes the "
            "same. Columns bright for one class and dark for the others: channels that layer keeps for that class.",
        )
        show.figure(
            specificity_by_depth(loaded.profiles),
            "class-specificity-by-depth",
            "η² per SE layer: the share of the gates' variance that the class explains (between-class over total "
            "sum of squares). 0: every class gets the same gates; 1: the class alone decides them. The paper's "
            "finding shows as low values early and higher ones deeper. Grey crosses: layers whose gates hardly "
            f"depend on the image (spread below {NEAR_CONSTANT_SPREAD:g}), so their η² means little.",
        )
    if loaded.probes:
        show.figure(
            probe_by_depth(
                loaded.probes,
                chance=1 / len(loaded.classes),
                network_accuracy=(loaded.meta.get("excitation_probes") or {}).get("network_accuracy"),
                near_constant=[name for name, p in loaded.profiles.items() if p.near_constant],
            ),
            "probe-reliability-by-depth",
            f"A second measure of the same thing: a linear probe per layer, fitted on the training split's gates, "
            f"scored on {validation}. Blue: how often it names the true class from the gates alone; red: how often "
            "it names what the network predicts. Unlike η², it says how much class a layer's gates can tell. Grey "
            "crosses: gates that hardly depend on the image; the probe, which rescales its inputs, still reads their "
            "tiny variations, but the network is not changed by them.",
        )

    st.subheader(f"Spread within each class, {layer}")
    per_class = results.sample_excitations(model, layer)
    if per_class is None:
        st.info(
            "No shipped sample image is of this model's classes, so there is no per-class spread to show."
        )
    else:
        options = list(per_class)
        chosen = st.multiselect(
            "Classes", options, key=state.choose("keep.across.classes", options, options[:3])
        )
        if chosen:
            counts = sorted({len(per_class[c]) for c in chosen})
            show.figure(
                excitation_distribution({c: per_class[c] for c in chosen}, layer),
                f"excitation-distribution-{layer}",
                f"Mean ± one standard deviation over the sample images of each class ({', '.join(map(str, counts))} "
                "per class): a band as wide as the gap between two classes' lines means single images of them "
                "cannot be told apart by this layer. 'all': the mean over every sample shown.",
            )
        else:
            st.info("Choose at least one class.")
