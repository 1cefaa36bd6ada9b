"""Attribution: which pixels a class score rests on (Captum), and which SE gates."""

import common
import results
import streamlit as st

from senet_lib.analysis.figures import attribution_overlay, gate_attribution_heatmap
from senet_lib.analysis.images import model_view

model = common.setup_page(
    "Attribution",
    "Attribution",
    "**Integrated Gradients** sums gradients along a path from a baseline (the mean image) to the input; "
    "**Saliency** is the largest gradient magnitude over the colour channels; **Grad-CAM** weights the "
    "last stage's feature maps by their mean gradient. All explain one class score.",
)
loaded = model.loaded
image = common.pick_image("attribution-image")
if image is not None:
    result = results.inspect_image(model, image)
    common.show_image_result(model, image, result)
    left, right = st.columns(2)
    method = left.radio("Method", results.ATTRIBUTION_METHODS, horizontal=True, key="attribution-method")
    options = [None, *range(len(loaded.classes))]
    target = right.selectbox(
        "Explain the score of",
        options,
        key="attribution-target",
        format_func=lambda k: (
            f"the predicted class ({result.predicted_class})" if k is None else loaded.classes[k]
        ),
    )
    target = result.predicted if target is None else target
    attribution = results.attribution_map(model, image, method, target)  # (S, S)
    view = model_view(image.decoded.image, loaded.input_format).permute(1, 2, 0)  # (3, S, S) -> (S, S, 3)
    stem = common.file_stem(image)
    common.show_figure(
        attribution_overlay(
            view, attribution, title=f"{method} for '{loaded.classes[target]}', {image.name}"
        ),
        f"{method.lower().replace(' ', '-')}-{loaded.classes[target]}-{stem}",
        caption="Red: pushes the score up; blue: down (IG); brighter: larger (Saliency, Grad-CAM). "
        "Drawn on the image as the model sees it.",
    )

    st.subheader("Which SE gates the score rests on")
    if loaded.se_layers:
        gates = results.gate_attribution_of(model, image, target)
        common.show_figure(
            gate_attribution_heatmap(gates, title=f"Gate attribution for '{loaded.classes[target]}'"),
            f"gate-attribution-{loaded.classes[target]}-{stem}",
            caption="s_c · ∂logit/∂s_c per channel: about how much of the score is lost if that gate "
            "closes. Try closing the largest ones on the Intervene page.",
        )
    else:
        st.info(f"{loaded.label} has no SE gates; choose an SE model for gate attribution.")
