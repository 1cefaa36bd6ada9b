"""How the pages show things: a figure with "how to read this" and its numbers as CSV, an image as uploaded and
as the model sees it with every conversion in words, a prediction with its top-5 and the true class."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from PIL import Image

from senet_lib.analysis.conversions import conversion_notes
from senet_lib.analysis.export import figure_csv
from senet_lib.analysis.images import model_view, upscale
from senet_lib.analysis.inspection import Inspection

from .library import InputImage, fitting_samples
from .models import Model

ORIGINAL_SIDE = 240  # the original is shown at most this many pixels wide or high


def figure(fig, name: str, how: str) -> None:
    """A plotly figure (its toolbar's camera saves a PNG), a short "how to read this", and the numbers as CSV."""
    st.plotly_chart(
        fig,
        key=f"fig-{name}",
        config={
            "displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
        },
    )
    st.caption(f"**How to read this.** {how}")
    st.download_button(
        "Download the numbers (CSV)",
        figure_csv(fig),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"csv-{name}",
        on_click="ignore",
        icon=":material/download:",
    )


def notice(model: Model) -> None:
    """The model's notice (e.g. random weights), if any, as a warning."""
    if model.loaded.notice:
        st.warning(model.loaded.notice, icon=":material/warning:")


def require_se(model: Model) -> bool:
    """False (with a message) when the chosen model has no SE layers."""
    if model.loaded.se_layers:
        return True
    st.warning(
        f"{model.loaded.label} has no SE layers, so there are no excitations to show. Choose an SE model in the "
        "sidebar; the Compare page puts an SE model beside its plain twin."
    )
    return False


def no_image_hint(model: Model) -> None:
    if fitting_samples(model.loaded.classes):
        st.info("Choose a sample or upload an image in the sidebar to start.")
    else:
        classes = ", ".join(model.loaded.classes[:6]) + (", ..." if len(model.loaded.classes) > 6 else "")
        st.info(f"Upload an image in the sidebar to start: {model.loaded.name} knows the classes {classes}.")


def prediction_line(result: Inspection, image: InputImage) -> str:
    """``Predicted: **cat** (98.4%) · true class: cat, right``."""
    cls, p = result.top_k(1)[0]
    line = f"Predicted: **{cls}** ({p:.1%})"
    if image.true_class:
        line += f" · true class: {image.true_class}, " + ("right" if cls == image.true_class else "**wrong**")
    return line


def top_k_table(result: Inspection, k: int = 5) -> None:
    """The k most probable classes with probability bars."""
    top = result.top_k(k)
    st.dataframe(
        {"class": [c for c, _ in top], "probability": [p for _, p in top]},
        hide_index=True,
        width="stretch",
        column_config={
            "probability": st.column_config.ProgressColumn(
                "probability", format="percent", min_value=0.0, max_value=1.0
            )
        },
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _thumbnail(sha: str, _image: Image.Image) -> Image.Image:
    small = _image.copy()
    small.thumbnail((ORIGINAL_SIDE, ORIGINAL_SIDE))
    return small


def view(model: Model, image: InputImage) -> None:
    """The image as the model sees it (resized and cropped to its input), enlarged with visible pixels."""
    spec = model.loaded.input_format
    factor = max(1, 160 // spec.size)
    caption = f"{image.name} as the model sees it: {spec.size}x{spec.size}" + (
        f", shown x{factor}" if factor > 1 else ""
    )
    st.image(upscale(model_view(image.decoded.image, spec), factor), caption=caption)


def image_result(
    model: Model, image: InputImage, result: Inspection, k: int = 5, original: bool = True
) -> None:
    """The original beside the model's view, the top-k prediction, and every conversion between them."""
    columns = st.columns([1, 1, 2] if original else [1, 2])
    if original:
        w, h = image.decoded.file_size
        columns[0].image(
            _thumbnail(image.sha, image.decoded.image),
            caption=f"The original: {w}x{h} {image.decoded.format}",
        )
    with columns[-2]:
        view(model, image)
    with columns[-1]:
        st.markdown(prediction_line(result, image))
        top_k_table(result, k)
    notes = conversion_notes(image.decoded, model.loaded.input_format)
    if changes := notes[1:-1]:  # between "the file" and "normalised": what the picture went through
        st.caption("On the way in: " + "; ".join(changes) + ".")
    with st.expander("From the file to the model's input: every step"):
        st.markdown("\n".join(f"1. {note}" for note in notes))


def file_stem(image: InputImage) -> str:
    return Path(image.name).stem.replace(" ", "_")
