"""Excitations across classes: the paper's Fig. 6 view of one SE layer, and class-specificity by depth."""

import common
import results
import streamlit as st

from senet_lib.analysis.figures import class_profile_heatmap, excitation_distribution, specificity_by_depth

model = common.setup_page(
    "Across classes",
    "Excitations across classes",
    "The paper's finding (Sec. 7.2, Fig. 6): early SE layers excite channels alike for every class "
    "(class-agnostic features); deeper layers respond class by class; the very last ones saturate.",
)
loaded = model.loaded
if common.require_se(model):
    layers = loaded.se_layers
    layer = st.selectbox("SE layer", layers, index=len(layers) - 1, key="across-layer")
    profile = loaded.profiles.get(layer)
    if profile is None:
        st.info(
            f"The sidecar of {loaded.label} holds no class profiles for {layer}. Compute them with "
            "`python -m senet_lib profile CHECKPOINT` (class means over the validation split)."
        )
    else:
        split = loaded.meta.get("class_profiles", {}).get("split", "validation")
        common.show_figure(
            class_profile_heatmap(profile.means, loaded.classes, layer),
            f"class-profiles-{layer}",
            caption=f"Mean excitation per class and channel over the {split} split "
            f"({int(profile.counts.sum()):,} images).",
        )
        common.show_figure(
            specificity_by_depth(loaded.profiles),
            "class-specificity-by-depth",
            caption="η² = between-class / total variance of the excitations, per SE layer: 0 when "
            "every class has the same profile, 1 when the class decides the excitation.",
        )

    st.subheader(f"Spread within each class, {layer}")
    per_class = results.sample_excitations(model, layer)
    if per_class is None:
        st.info(
            "The CIFAR-10 samples do not match this model's classes, so there is no per-class spread to show."
        )
    else:
        chosen = st.multiselect("Classes", list(per_class), default=list(per_class)[:3], key="across-classes")
        if chosen:
            common.show_figure(
                excitation_distribution({c: per_class[c] for c in chosen}, layer),
                f"excitation-distribution-{layer}",
                caption="Mean ± one std over the 3 CIFAR-10 samples per class in data/samples; "
                "'all' is the mean over every sample shown.",
            )
        else:
            st.info("Choose at least one class.")
