"""Intervene: replace chosen SE gates of one layer before the scale step (Eq. 4 with a new s) and see the
prediction move and the later layers respond."""

import streamlit as st
from ui import library, models, results, show, sidebar, state

from senet_lib.analysis.contrast import excitation_difference
from senet_lib.analysis.figures import excitation_difference_heatmap, prediction_bars

MODES = ["switch off (s = 0)", "scale the gates", "set to a value"]

model = models.current_model()
loaded = model.loaded
st.title("Intervene on the gates")
st.markdown(
    "Replace the excitation *s* of chosen channels before the **scale** step (Eq. 4): *s* = 0 switches a channel "
    "off; multiplying the gates by 1 leaves them as they are; *s* = 1 opens a gate fully, which is a change too, "
    "since learned gates sit mostly below 1. Everything after that layer sees the change."
)
show.notice(model)
images = sidebar.chosen()
if not images:
    show.no_image_hint(model)
elif show.require_se(model):
    image = library.pick("intervene.image", images)
    before = results.inspect_image(model, image)
    layers = loaded.se_layers
    stage = layers[-1].rsplit("_", 1)[0]
    first_of_last = next(name for name in layers if name.rsplit("_", 1)[0] == stage)
    default_layer = first_of_last if first_of_last != layers[-1] else layers[max(0, len(layers) - 2)]
    left, right = st.columns(2)
    layer = left.selectbox(
        "SE layer",
        layers,
        key=state.choose("keep.intervene.layer", layers, default_layer),
        help="Default: the first SE block of the last stage, so the blocks after it can respond.",
    )
    gates = results.gate_attribution_of(model, image, before.predicted)[layer]  # (C,)
    channels = list(range(len(before.excitations[layer])))
    strongest = sorted(channels, key=lambda c: -float(gates[c]))[:3]  # the gates the prediction leans on most
    whole = right.checkbox(
        "All channels of this layer", key=state.choose("keep.intervene.all", [True, False], False)
    )
    chosen = (
        channels
        if whole
        else right.multiselect(
            "Channels",
            channels,
            key=state.choose(f"keep.intervene.channels.{image.sha[:16]}.{layer}", channels, strongest),
            help="Default: the 3 channels with the largest gate attribution for the predicted class "
            "(see the Attribution page), chosen again for each layer and image.",
        )
    )
    mode = left.radio(
        "New gates", MODES, horizontal=True, key=state.choose("keep.intervene.mode", MODES, MODES[0])
    )
    current = before.excitations[layer]  # (C,)
    if mode == MODES[1]:
        factor = right.slider(
            "Multiply the gates by", 0.0, 2.0, step=0.05, key=state.choose("keep.intervene.factor", None, 1.0)
        )
        new = {c: float(current[c]) * factor for c in chosen}
        what = f"multiplied by {factor:g}"
    elif mode == MODES[2]:
        mean_gate = round(float(current[chosen].mean()), 2) if chosen else 0.5
        value = right.slider(
            "s",
            0.0,
            1.0,
            step=0.01,
            key=state.choose(f"keep.intervene.value.{layer}", None, mean_gate),
            help="Starts at the chosen gates' mean: moving it away from that is the intervention.",
        )
        new = dict.fromkeys(chosen, value)
        what = f"set to {value:g}"
    else:
        new = dict.fromkeys(chosen, 0.0)
        what = "set to 0"
    if not chosen:
        st.info("Choose at least one channel to intervene on.")
    else:
        after = results.inspect_image(model, image, {layer: new})
        was, now = before.top_k(1)[0], after.top_k(1)[0]
        show.view(model, image)
        st.markdown(
            f"**{len(chosen)} gate(s) of {layer} {what}**: prediction {was[0]} ({was[1]:.1%}) → "
            f"**{now[0]}** ({now[1]:.1%})."
        )
        col_before, col_after = st.columns(2)
        with col_before:
            st.markdown("Unmodified")
            show.top_k_table(before)
        with col_after:
            st.markdown("With the intervention")
            show.top_k_table(after)
        stem = show.file_stem(image)
        show.figure(
            prediction_bars(
                {"unmodified": before.probs, "intervened": after.probs},
                loaded.classes,
                top_k=10,
                title=f"Prediction before and after, {image.name}",
            ),
            f"intervention-{layer}-{stem}",
            "Each class's probability without (blue) and with (red) the intervention, classes ordered by the "
            "unmodified prediction. A red bar taller than its blue one: the closed gates were holding that class down.",
        )
        show.figure(
            excitation_difference_heatmap(
                excitation_difference(after.excitations, before.excitations),
                title="What the intervention changed: gates after minus before",
            ),
            f"excitations-change-{layer}-{stem}",
            f"Layers before {layer} stay white (unchanged). In {layer}, the channels you set show their change; "
            "the layers after it show how their own gates respond to it: red opened, blue closed.",
        )
