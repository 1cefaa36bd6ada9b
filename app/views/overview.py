"""Overview: what SE blocks do, the chosen model in its sidecar's words, whether it reproduces the paper's
findings, and every chosen image as uploaded and as the model sees it, with its top-5."""

import streamlit as st
from ui import models, results, show, sidebar, tour

from senet_lib.analysis.catalog import data_info
from senet_lib.analysis.findings import check_checkpoint, summary
from senet_lib.complexity import count_parameters

model = models.current_model()
loaded = model.loaded
st.title("SENet Lab: inside a Squeeze-and-Excitation network")
st.markdown(
    "An SE block **squeezes** each channel of a feature map to one number (global average pooling, Eq. 2), "
    "**excites** them through a small bottleneck into a gate *s* in (0, 1) per channel (Eq. 3), and "
    "**scales** each channel by its gate (Eq. 4). This dashboard shows those gates, the *excitations*, for "
    "your images, layer by layer, beside what they look like for each class (Hu et al., *Squeeze-and-"
    "Excitation Networks*, Sec. 7.2, Fig. 6). Pick a model and images in the sidebar, then open a page."
)
tour.offer()
show.notice(model)

st.subheader(f"Model: {loaded.label}")
facts = [
    f"{count_parameters(loaded.model):,} parameters",
    f"{len(loaded.se_layers)} SE layers",
    f"{len(loaded.classes)} classes",
    f"input {loaded.input_format.size}x{loaded.input_format.size}",
]
accuracy = (loaded.meta.get("metrics") or {}).get("val_acc")
if accuracy is not None:
    facts.append(f"validation accuracy {accuracy:.2%} on {data_info(loaded.meta).validation_phrase()}")
st.caption(" · ".join(facts) + ".")

if loaded.se_layers:
    twin = models.twin(model)
    findings = check_checkpoint(
        loaded,
        twin.loaded if twin else None,
        models.evaluation(model),
        models.evaluation(twin) if twin else None,
    )
    st.markdown(f"**Does it reproduce the paper?** {summary(findings)}")
    if findings:
        with st.expander("The numbers behind each verdict"):
            for finding in findings:
                st.markdown(f"- **{finding.claim}**: {finding.verdict}. {finding.evidence}")
    if twin is None:
        st.caption(
            "No shipped plain twin (the same data and recipe without SE, by the sidecars), so accuracy and "
            "cost cannot be checked against one."
        )

images = sidebar.chosen()
if not images:
    show.no_image_hint(model)
for image in images:
    st.divider()
    show.image_result(model, image, results.inspect_image(model, image))
