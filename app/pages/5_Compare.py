"""Compare models on the same image: the SE model and its plain twin, your checkpoint, torchvision SE networks."""

from pathlib import Path

import common
import results
import streamlit as st

from senet_lib.analysis.figures import excitation_heatmap
from senet_lib.analysis.torchvision_se import TORCHVISION_SE_MODELS
from senet_lib.checkpoint import CheckpointError
from senet_lib.complexity import count_parameters

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".tar")


def show_model(model: common.Model, image: common.InputImage, slot: str) -> None:
    """One column: the model's name, size and accuracy, its prediction and (SE models) excitations."""
    loaded = model.loaded
    st.markdown(f"#### {loaded.label}")
    common.show_notice(model)
    acc = loaded.meta.get("metrics", {}).get("val_acc")
    st.caption(
        f"{count_parameters(loaded.model):,} parameters · {len(loaded.se_layers)} SE layers"
        + (f" · validation accuracy {acc:.2%}" if acc is not None else "")
    )
    result = results.inspect_image(model, image)
    common.show_image_result(model, image, result)
    if loaded.se_layers:
        common.show_figure(
            excitation_heatmap(result.excitations, title=f"Excitations, {loaded.name}"),
            f"excitations-{slot}-{loaded.name}-{common.file_stem(image)}",
        )
    else:
        st.info("A plain network: no SE blocks, so no excitations; its channels all pass with weight 1.")


def plain_twin(model: common.Model) -> common.Model | None:
    name = model.loaded.name
    twin = name.removeprefix("se_") if name.startswith("se_") else f"se_{name}"
    return common.load_checkpoint(twin) if twin in common.shipped_checkpoints() else None


def read_checkpoint_upload(files: list) -> common.Model | None:
    """The uploaded .safetensors + .json pair as a model; an error box (and None) for anything else."""
    by_suffix = {Path(f.name).suffix.lower(): f for f in files}
    if pickles := [f.name for f in files if Path(f.name).suffix.lower() in PICKLE_SUFFIXES]:
        st.error(
            f"{', '.join(pickles)}: PyTorch pickle files are never opened here, because unpickling can run "
            "arbitrary code. Convert the model where you trust the file, with "
            "`senet_lib.checkpoint.save_checkpoint(path, model, meta)`, and upload the .safetensors and .json "
            "it writes."
        )
        return None
    if len(files) != 2 or set(by_suffix) != {".safetensors", ".json"}:
        st.error(
            f"Got {', '.join(f.name for f in files)}. Upload exactly two files: the weights (.safetensors) and "
            "their sidecar (.json, with the model name, classes and normalisation) as written by "
            "save_checkpoint."
        )
        return None
    weights = by_suffix[".safetensors"]
    try:
        model = common.load_uploaded(weights.getvalue(), by_suffix[".json"].getvalue(), weights.name)
    except CheckpointError as err:
        st.error(f"The uploaded checkpoint cannot be used: {err}")
        return None
    known = st.session_state.setdefault("_uploaded_models", {})
    if known.get(f"uploaded: {weights.name}") != model:
        known[f"uploaded: {weights.name}"] = model
        st.rerun()  # draw the sidebar again, with the new checkpoint in its list
    st.success(f"Loaded {model.loaded.label}; it is also in the sidebar's checkpoint list now.")
    return model


model = common.setup_page("Compare", "Compare models")
image = common.pick_image("compare-image")
if image is not None:
    st.header("SE network vs its plain twin")
    twin = plain_twin(model)
    if twin is None:
        st.info(f"No shipped plain/SE twin of {model.loaded.name} in data/checkpoints.")
    else:
        se_first = sorted([model, twin], key=lambda m: not m.loaded.se_layers)
        for column, each, slot in zip(st.columns(2), se_first, ("a", "b")):
            with column:
                show_model(each, image, f"twin-{slot}")

    st.header("Your checkpoint")
    files = st.file_uploader(
        "Upload a checkpoint: its .safetensors weights and .json sidecar",
        key="checkpoint",
        accept_multiple_files=True,
        help="safetensors + JSON only: they are data, so opening them runs no code. Pickles "
        "(.pt, .pth, .bin, .ckpt) are refused.",
    )
    if files and (uploaded := read_checkpoint_upload(files)) is not None:
        for column, each, slot in zip(st.columns(2), (model, uploaded), ("chosen", "uploaded")):
            with column:
                show_model(each, image, slot)

    st.header("torchvision networks with SE blocks (ImageNet)")
    left, right = st.columns([2, 1])
    names = list(TORCHVISION_SE_MODELS)
    name = left.selectbox("Network", names, index=names.index("mobilenet_v3_small"), key="torchvision-model")
    download = right.button(
        "Try to download the ImageNet weights",
        key="torchvision-download",
        help="Needs internet; the weights are kept in the torch hub cache afterwards.",
    )
    show_model(common.load_torchvision(name, download=download), image, "torchvision")
