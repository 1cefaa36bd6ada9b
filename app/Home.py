"""SENet Lab dashboard, the entry page: `streamlit run app/Home.py` (or `make app`).

The overview: what the dashboard shows, and every chosen image with the model's view and top-5.
The other pages are the files in app/pages/ (Streamlit lists them in the sidebar); each one draws the
same sidebar (model and images) through common.setup_page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

APP_DIR = str(Path(__file__).resolve().parent)
if APP_DIR not in sys.path:  # `streamlit run` adds it; AppTest does not
    sys.path.insert(0, APP_DIR)

import common  # noqa: E402
import results  # noqa: E402

model = common.setup_page(
    "Overview",
    "SENet Lab: inside a Squeeze-and-Excitation network",
    "An SE block **squeezes** each channel of a feature map to one number (global average pooling, Eq. 2), "
    "**excites** them through a small bottleneck into a gate *s* in (0, 1) per channel (Eq. 3), and "
    "**scales** each channel by its gate (Eq. 4). This dashboard shows those gates, the *excitations*, "
    "for your images, layer by layer, next to what they look like on average for each class "
    "(Hu et al., *Squeeze-and-Excitation Networks*, Sec. 7.2, Fig. 6).\n\n"
    "Pick a model and images in the sidebar, then open a page:\n"
    "- **Excitations**: one image's gates in every SE layer, and against the class-mean profiles;\n"
    "- **Across classes**: the class-mean excitations of a layer, and how class-specific each depth is;\n"
    "- **Attribution**: which pixels (Integrated Gradients, Saliency, Grad-CAM) and which gates a "
    "prediction rests on;\n"
    "- **Intervene**: close or set chosen gates and watch the prediction move;\n"
    "- **Compare**: the SE model beside its plain twin, your own checkpoint, torchvision SE networks.",
)

st.subheader(f"Model: {model.loaded.label}")
metrics = model.loaded.meta.get("metrics", {})
if "val_acc" in metrics:
    st.caption(
        f"Validation accuracy {metrics['val_acc']:.2%} on the 5,000 held-out CIFAR-10 images; "
        f"{len(model.loaded.se_layers)} SE layers; input {model.loaded.input_format.size}x{model.loaded.input_format.size}."
    )
images = common.chosen_images()
if not images:
    st.info("Choose a CIFAR-10 sample or upload an image in the sidebar to start.")
for image in images:
    st.divider()
    common.show_image_result(model, image, results.inspect_image(model, image))
