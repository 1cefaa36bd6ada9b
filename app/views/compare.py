"""Compare models on one image: the SE model beside its plain twin (found by the sidecars), beside any other
checkpoint, and torchvision's SE networks (ImageNet)."""

import streamlit as st
from ui import library, models, results, show, sidebar, state

from senet_lib.analysis.catalog import data_info
from senet_lib.analysis.figures import excitation_heatmap
from senet_lib.analysis.findings import check_checkpoint
from senet_lib.analysis.torchvision_se import TORCHVISION_SE_MODELS
from senet_lib.checkpoint import CheckpointError
from senet_lib.complexity import count_parameters


def show_model(model: models.Model, image: library.InputImage, slot: str) -> None:
    """One column: the model's name, size and accuracy, its prediction and (SE models) excitations."""
    loaded = model.loaded
    st.markdown(f"#### {loaded.label}")
    show.notice(model)
    acc = (loaded.meta.get("metrics") or {}).get("val_acc")
    st.caption(
        f"{count_parameters(loaded.model):,} parameters · {len(loaded.se_layers)} SE layers"
        + (f" · validation accuracy {acc:.2%} on {data_info(loaded.meta).validation_phrase()}" if acc else "")
    )
    result = results.inspect_image(model, image)
    show.image_result(model, image, result, original=False)
    if loaded.se_layers:
        show.figure(
            excitation_heatmap(result.excitations, title=f"Excitations, {loaded.name}"),
            f"excitations-{slot}-{loaded.name}-{show.file_stem(image)}",
            "The gates of every SE layer (rows) and channel for this image, as on the Excitations page.",
        )
    else:
        st.info("A plain network: no SE blocks, so no excitations; every channel passes with weight 1.")


model = models.current_model()
st.title("Compare models")
images = sidebar.chosen()
if not images:
    show.no_image_hint(model)
else:
    image = library.pick("compare.image", images)
    st.header("SE network vs its plain twin")
    twin = models.twin(model)
    if twin is None:
        st.info(
            f"No shipped checkpoint is {model.loaded.name}'s twin: none has the same classes, data and recipe "
            "with the SE blocks taken out (or put in), by what the sidecars say."
        )
    else:
        se, plain = sorted([model, twin], key=lambda m: not m.loaded.se_layers)
        for finding in check_checkpoint(
            se.loaded, plain.loaded, models.evaluation(se), models.evaluation(plain)
        ):
            st.markdown(f"- **{finding.claim}**: {finding.verdict}. {finding.evidence}")
        for column, each, slot in zip(st.columns(2), (se, plain), ("a", "b")):
            with column:
                show_model(each, image, f"twin-{slot}")

    st.header("Beside another checkpoint")
    others = [name for name in models.model_options() if name != st.session_state["model"]]
    if not others:
        st.info("There is no other checkpoint; upload one in the sidebar (Use your own checkpoint).")
    else:
        other = st.selectbox(
            "Other checkpoint", others, key=state.choose("keep.compare.other", others, others[0])
        )
        try:
            chosen = models.load_choice(other)
        except (CheckpointError, OSError, ValueError) as err:
            st.error(f"The checkpoint {other} cannot be loaded: {err}")
        else:
            for column, each, slot in zip(st.columns(2), (model, chosen), ("chosen", "other")):
                with column:
                    show_model(each, image, slot)

    torchvision = st.expander(
        "torchvision networks with SE blocks (ImageNet classes)", key="compare.torchvision", on_change="rerun"
    )
    with torchvision:  # built only when opened: collapsed, nothing runs
        if torchvision.open:
            left, right = st.columns([2, 1])
            names = list(TORCHVISION_SE_MODELS)
            name = left.selectbox(
                "Network", names, key=state.choose("keep.compare.torchvision", names, "mobilenet_v3_small")
            )
            download = right.button(
                "Try to download the ImageNet weights",
                key="torchvision-download",
                help="Needs internet; the weights are kept in the torch hub cache afterwards.",
            )
            network = models.load_torchvision(name, download=download)
            if network.loaded.notice:
                st.warning(
                    f"{name} runs with random weights here, so its predictions and excitations below mean "
                    "nothing: only the architecture is real. Why, and how to get the ImageNet weights:",
                    icon=":material/warning:",
                )
            show_model(network, image, "torchvision")
