"""Two images side by side: their predictions and excitations, and the difference of the gates layer by layer."""

import streamlit as st
from ui import library, models, results, show, sidebar

from senet_lib.analysis.contrast import excitation_difference, rms_by_layer
from senet_lib.analysis.figures import difference_by_depth, excitation_difference_heatmap, excitation_heatmap

model = models.current_model()
st.title("Two images, side by side")
st.markdown(
    "Do two images get the same gates? Pick two: their excitations, then image A minus image B per channel, "
    "and how far apart they are in each SE layer."
)
show.notice(model)
images = sidebar.chosen()
if len(images) < 2:
    st.info("Choose at least two images in the sidebar (samples, uploads or photos) to compare them.")
elif show.require_se(model):
    left, right = st.columns(2)
    with left:
        first = library.pick("pair.first", images, "Image A", default=0)
    with right:
        second = library.pick("pair.second", images, "Image B", default=1)
    if first.sha == second.sha:
        st.info("Image A and image B are the same file: choose two different images.")
    else:
        outcome = {}
        for column, image, slot in ((left, first, "A"), (right, second, "B")):
            with column:
                outcome[slot] = results.inspect_image(model, image)
                show.view(model, image)
                st.markdown(show.prediction_line(outcome[slot], image))
                show.figure(
                    excitation_heatmap(outcome[slot].excitations, title=f"{slot}: {image.name}"),
                    f"excitations-{slot}-{show.file_stem(image)}",
                    "Gates of every SE layer (rows) and channel (columns), as on the Excitations page.",
                )
        difference = excitation_difference(outcome["A"].excitations, outcome["B"].excitations)
        pair = f"{show.file_stem(first)}-minus-{show.file_stem(second)}"
        show.figure(
            excitation_difference_heatmap(difference, title=f"A - B: {first.name} minus {second.name}"),
            f"difference-{pair}",
            "Red: channels image A lets through more than image B; blue: less; white: the same. Two images of one "
            "class tend to differ mostly in the last layers' few class-specific channels; images of different "
            "classes differ there more.",
        )
        show.figure(
            difference_by_depth(rms_by_layer(difference), title="How far apart A and B are, by depth"),
            f"difference-by-depth-{pair}",
            "One number per SE layer: the root mean square of A - B over its channels. A rising line means the "
            "two images are recalibrated alike early on and apart deeper in the network.",
        )
