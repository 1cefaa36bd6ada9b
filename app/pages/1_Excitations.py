"""Excitations of one image: every SE layer's gates (layers x channels), then one layer against the class means."""

import common
import results
import streamlit as st

from senet_lib.analysis.figures import excitation_heatmap, excitation_vs_profiles, probe_heatmap
from senet_lib.analysis.probe import probe_probabilities

model = common.setup_page(
    "Excitations",
    "Excitations, layer by layer",
    "Each row is one SE block, each cell one channel's gate *s* = σ(W₂ δ(W₁ z)) (Eq. 3): "
    "the factor that channel is scaled by (Eq. 4). Near 1: passed on; near 0: suppressed.",
)
image = common.pick_image("excitations-image")
if image is not None and common.require_se(model):
    loaded = model.loaded
    result = results.inspect_image(model, image)
    common.show_image_result(model, image, result)
    stem = common.file_stem(image)
    common.show_figure(
        excitation_heatmap(result.excitations, title=f"Excitations of {image.name}, per SE layer"),
        f"excitations-{stem}",
    )

    st.subheader("This image against the class-mean profiles")
    if not loaded.profiles:
        st.info(
            f"The sidecar of {loaded.label} holds no class profiles, so there is nothing to compare with. "
            "Compute them with `python -m senet_lib profile CHECKPOINT`."
        )
    else:
        layers = [name for name in loaded.se_layers if name in loaded.profiles]
        left, right = st.columns(2)
        layer = left.selectbox("SE layer", layers, index=len(layers) - 1, key="excitations-layer")
        chosen = right.multiselect(
            "Classes",
            loaded.classes,
            key="excitations-classes",
            default=list(
                dict.fromkeys([result.predicted_class] + ([image.true_class] if image.true_class else []))
            ),
        )
        common.show_figure(
            excitation_vs_profiles(
                result.excitations[layer],
                loaded.profiles[layer].means,
                loaded.classes,
                chosen or None,
                layer,
                image.name,
            ),
            f"excitations-vs-classes-{layer}-{stem}",
            caption="Dotted: the class-mean excitations over the 5,000 validation images (sidecar); "
            "black: this image. No class chosen shows all ten.",
        )
        names, probabilities = probe_probabilities(result.excitations, loaded.probes)
        common.show_figure(
            probe_heatmap(probabilities, names, loaded.classes, result.predicted),
            f"probe-by-depth-{stem}",
        )
