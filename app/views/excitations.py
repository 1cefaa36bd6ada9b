"""Excitations of one image: every SE layer's gates, one layer against the class means, and what class a linear
probe reads from each layer's gates (scored on held-out images, so its reliability is known)."""

import streamlit as st
from ui import library, models, results, show, sidebar, state

from senet_lib.analysis.catalog import data_info
from senet_lib.analysis.figures import (
    excitation_heatmap,
    excitation_vs_profiles,
    probe_by_depth,
    probe_heatmap,
)
from senet_lib.analysis.probe import probe_probabilities

model = models.current_model()
loaded = model.loaded
st.title("Excitations, layer by layer")
st.markdown(
    "Each row is one SE block, each cell one channel's gate *s* = σ(W₂ δ(W₁ z)) (Eq. 3): the factor that "
    "channel is multiplied by (Eq. 4). Near 1: passed on; near 0: suppressed."
)
show.notice(model)
images = sidebar.chosen()
if not images:
    show.no_image_hint(model)
elif show.require_se(model):
    image = library.pick("excitations.image", images)
    result = results.inspect_image(model, image)
    show.image_result(model, image, result)
    stem = show.file_stem(image)
    show.figure(
        excitation_heatmap(result.excitations, title=f"Excitations of {image.name}, per SE layer"),
        f"excitations-{stem}",
        "Rows run from the first SE block (top) to the last; bright cells are channels this image lets through, "
        "dark ones it damps. Early rows look alike for most images; the last rows change most from image to "
        "image. Hover a cell for its layer, channel and value.",
    )

    st.subheader("This image against the class means")
    validation = data_info(loaded.meta).validation_phrase()
    if not loaded.profiles:
        st.info(
            f"The sidecar of {loaded.label} holds no class profiles, so there is nothing to compare with. "
            "Compute them with `python -m senet_lib profile CHECKPOINT`."
        )
    else:
        layers = [name for name in loaded.se_layers if name in loaded.profiles]
        left, right = st.columns(2)
        layer = left.selectbox(
            "SE layer", layers, key=state.choose("keep.excitations.layer", layers, layers[-1])
        )
        wanted = list(
            dict.fromkeys([result.predicted_class] + ([image.true_class] if image.true_class else []))
        )
        chosen = right.multiselect(
            "Classes",
            loaded.classes,
            key=state.choose(f"keep.excitations.classes.{image.sha[:16]}", loaded.classes, wanted),
            help="Default: the predicted class, and the true class when it is known.",
        )
        show.figure(
            excitation_vs_profiles(
                result.excitations[layer],
                loaded.profiles[layer].means,
                loaded.classes,
                chosen or None,
                layer,
                image.name,
            ),
            f"excitations-vs-classes-{layer}-{stem}",
            f"Dotted: each chosen class's mean gate per channel over {validation} (from the sidecar); black: this "
            "image. Where the black line follows one class's dots more than the others', this layer treats the "
            "image like that class; where all dotted lines coincide the layer is class-agnostic. No class chosen "
            "shows them all.",
        )

    st.subheader("What class do the gates point to?")
    if not loaded.probes:
        st.info(
            f"The sidecar of {loaded.label} holds no excitation probes. Fit them with "
            "`python -m senet_lib probe CHECKPOINT` (on the training split; scored on the validation split)."
        )
    else:
        names, probabilities = probe_probabilities(result.excitations, loaded.probes)
        guesses = [loaded.classes[k] for k in probabilities.argmax(1).tolist()]
        agree = [n for n, g in zip(names, guesses) if g == result.predicted_class]
        rates = [loaded.probes[n].agreement for n in names]
        count = loaded.probes[names[0]].count
        st.markdown(
            f"For this image, the probe's class equals the network's prediction (**{result.predicted_class}**) "
            f"in {len(agree)} of {len(names)} SE layers"
            + (f" ({', '.join(agree)})" if agree else "")
            + f". Over {count:,} validation images the probes never saw, they agree with the network's "
            f"prediction in {min(rates):.0%} to {max(rates):.0%} of images, depending on the layer (chance: "
            f"{1 / len(loaded.classes):.0%}), so one layer's guess for one image is a weak hint, most where that "
            "rate is low."
        )
        show.figure(
            probe_heatmap(probabilities, names, loaded.classes, result.predicted),
            f"probe-by-layer-{stem}",
            "Each row is a linear probe reading only that layer's gates: its probability for each class. The red "
            "x is the probe's class; the white circles mark the network's own prediction. Where they meet, the "
            "gates at that depth already point where the network ends up.",
        )
        show.figure(
            probe_by_depth(
                {n: loaded.probes[n] for n in names},
                chance=1 / len(loaded.classes),
                network_accuracy=(loaded.meta.get("excitation_probes") or {}).get("network_accuracy"),
            ),
            "probe-reliability-by-depth",
            f"How right each layer's probe is over {validation}, which it was not fitted on: blue, how often "
            "its class is the true class; red, how often it is the network's prediction. Near chance: the "
            "gates of that depth say little about the class (the paper's class-agnostic early layers).",
        )
