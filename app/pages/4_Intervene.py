"""Intervene: close or set chosen SE gates in one layer and see the prediction move (Eq. 4 with a new s)."""

import common
import results
import streamlit as st

from senet_lib.analysis.figures import excitation_heatmap, prediction_bars

model = common.setup_page(
    "Intervene",
    "Intervene on the gates",
    "Replace the excitation *s* of chosen channels before the **scale** step (Eq. 4): 0 switches a "
    "channel off, 1 passes it unchanged. Everything after that layer sees the change.",
)
loaded = model.loaded
image = common.pick_image("intervene-image")
if image is not None and common.require_se(model):
    before = results.inspect_image(model, image)
    layers = loaded.se_layers
    left, right = st.columns(2)
    layer = left.selectbox("SE layer", layers, index=len(layers) - 1, key="intervene-layer")
    channels = list(range(len(before.excitations[layer])))
    gates = results.gate_attribution_of(model, image, before.predicted)[layer]  # (C,)
    strongest = sorted(channels, key=lambda c: -float(gates[c]))[:3]  # the gates the prediction leans on most
    whole = right.checkbox("All channels of this layer", key="intervene-all")
    chosen = (
        channels
        if whole
        else right.multiselect(
            "Channels",
            channels,
            default=strongest,
            key="intervene-channels",
            help="Default: the 3 channels with the largest gate attribution for the predicted class.",
        )
    )
    mode = left.radio(
        "New gate value", ["switch off (s = 0)", "set to a value"], horizontal=True, key="intervene-mode"
    )
    value = (
        0.0 if mode.startswith("switch") else right.slider("s", 0.0, 1.0, 1.0, 0.05, key="intervene-value")
    )
    if not chosen:
        st.info("Choose at least one channel to intervene on.")
    else:
        overrides = {layer: {c: value for c in chosen}}
        after = results.inspect_image(model, image, overrides)
        common.show_view(model, image)
        was, now = before.top_k(1)[0], after.top_k(1)[0]
        st.markdown(
            f"**{len(chosen)} gate(s) of {layer} set to {value:g}**: prediction "
            f"{was[0]} ({was[1]:.1%}) → **{now[0]}** ({now[1]:.1%})."
        )
        col_before, col_after = st.columns(2)
        with col_before:
            st.markdown("Unmodified")
            common.top_k_table(before)
        with col_after:
            st.markdown("With the intervention")
            common.top_k_table(after)
        stem = common.file_stem(image)
        common.show_figure(
            prediction_bars(
                {"unmodified": before.probs, "intervened": after.probs},
                loaded.classes,
                top_k=10,
                title=f"Prediction before and after, {image.name}",
            ),
            f"intervention-{layer}-{stem}",
        )
        common.show_figure(
            excitation_heatmap(after.excitations, title="Excitations with the intervention"),
            f"excitations-intervened-{layer}-{stem}",
            caption=f"{layer} shows the new gates; the layers after it show how they respond.",
        )
