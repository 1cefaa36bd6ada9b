"""Attribution: which pixels (Captum) and which SE gates a class score rests on, for the predicted class beside
the true class (or any other)."""

import streamlit as st
from ui import library, models, results, show, sidebar, state

from senet_lib.analysis.figures import attribution_overlay, gate_attribution_heatmap
from senet_lib.analysis.images import model_view

#: method -> (what it computes, how to read its map)
METHODS = {
    "Integrated Gradients": (
        "sums the gradients along a straight path from a baseline (the mean image, all zeros after "
        "normalisation) to the input, times the input's difference from it; the map adds up to the score's "
        "change from the baseline (completeness).",
        "Red pixels push this class's score up, blue ones down; the strongest sit on the parts the score rests "
        "on. Colours add up: red and blue together give the score's change from the mean image.",
    ),
    "Saliency": (
        "the largest absolute gradient of the score over the three colour channels of each pixel: how much a "
        "tiny change there would move the score.",
        "Brighter: the score is more sensitive to that pixel. It shows sensitivity, not contribution, and has no "
        "sign: a bright pixel may raise or lower the score. Often speckled at 32x32.",
    ),
    "Grad-CAM": (
        "weights the last stage's feature maps by their mean gradient and keeps the positive part, upsampled "
        "from that stage's coarse grid to the input's size.",
        "Brighter: regions whose features raise this class's score. Coarse by design (one cell of the last "
        "stage covers a block of pixels), so it locates, it does not outline.",
    ),
}

model = models.current_model()
loaded = model.loaded
st.title("Attribution")
st.markdown(
    "Which pixels, and which SE gates, a class score rests on. The prediction's class beside the true class "
    "when you know it (give an upload its true class in the sidebar), or any class you pick."
)
show.notice(model)
images = sidebar.chosen()
if not images:
    show.no_image_hint(model)
else:
    image = library.pick("attribution.image", images)
    result = results.inspect_image(model, image)
    show.image_result(model, image, result, original=False)
    methods = list(METHODS)
    method = st.radio(
        "Method", methods, horizontal=True, key=state.choose("keep.attribution.method", methods, methods[0])
    )
    st.caption(f"**{method}** {METHODS[method][0]}")
    predicted = result.predicted
    if image.true_class and image.true_class != result.predicted_class:
        other = loaded.classes.index(image.true_class)
        other_label = f"the true class ({image.true_class})"
    else:
        runner_up = loaded.classes.index(result.top_k(2)[1][0])
        others = [k for k in range(len(loaded.classes)) if k != predicted]
        other = st.selectbox(
            "Beside the prediction, explain",
            others,
            format_func=lambda k: loaded.classes[k],
            key=state.choose(f"keep.attribution.other.{image.sha[:16]}", others, runner_up),
            help="Default: the second most probable class."
            + (" The true class is the predicted one here." if image.true_class else ""),
        )
        other_label = f"the class {loaded.classes[other]}"
    view = model_view(image.decoded.image, loaded.input_format).permute(1, 2, 0)  # (3, S, S) -> (S, S, 3)
    stem = show.file_stem(image)
    slug = method.lower().replace(" ", "-")
    targets = ((predicted, f"the prediction ({result.predicted_class})"), (other, other_label))
    for column, (target, label) in zip(st.columns(2), targets):
        name = loaded.classes[target]
        with column:
            st.markdown(f"#### Why {label}?")
            attribution = results.attribution_map(model, image, method, target)  # (S, S)
            show.figure(
                attribution_overlay(view, attribution, title=f"{method} for '{name}', {image.name}"),
                f"{slug}-{name}-{stem}",
                METHODS[method][1],
            )
            if loaded.se_layers:
                gates = results.gate_attribution_of(model, image, target)
                show.figure(
                    gate_attribution_heatmap(gates, title=f"Gate attribution for '{name}'"),
                    f"gate-attribution-{name}-{stem}",
                    "s_c · ∂score/∂s_c for each SE layer (rows) and channel: about how much of this class's score "
                    "is lost if that gate closes. Red gates hold the score up, blue ones hold it down; try closing "
                    "the reddest on the Intervene page.",
                )
    if not loaded.se_layers:
        st.info(f"{loaded.label} has no SE gates; choose an SE model for gate attribution.")
