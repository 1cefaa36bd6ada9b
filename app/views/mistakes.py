"""Where the model is wrong: the confusion matrix and per-class accuracy over its validation split (SE beside its
plain twin, from the evaluations that ship with them), and the sample and labelled images it gets wrong."""

import streamlit as st
from ui import library, models, results, show

from senet_lib.analysis.catalog import data_info
from senet_lib.analysis.figures import confusion_heatmap, excitation_heatmap, per_class_accuracy_bars

model = models.current_model()
loaded = model.loaded
st.title("Where the model is wrong")
show.notice(model)

reports = {}
twin = models.twin(model)
for each in sorted([model] + ([twin] if twin else []), key=lambda m: not m.loaded.se_layers):  # SE first
    if (report := models.evaluation(each)) is not None and report.classes == loaded.classes:
        reports[each.loaded.name] = report
validation = data_info(loaded.meta).validation_phrase()
if loaded.name not in reports:
    st.info(
        f"No evaluation ships with {loaded.label}: the confusion matrix comes from the `<name>.eval.json` that "
        "`python -m senet_lib evaluate CHECKPOINT --out CHECKPOINT.eval.json` writes beside a checkpoint in "
        "data/checkpoints. The images below still work."
    )
else:
    st.markdown(
        " · ".join(f"**{name}**: {r.accuracy:.2%} right on {r.count:,} images" for name, r in reports.items())
        + f" ({validation})."
    )
    columns = st.columns(len(reports))
    for column, (name, report) in zip(columns, reports.items()):
        with column:
            show.figure(
                confusion_heatmap(report.confusion, report.classes, title=f"Confusion matrix, {name}"),
                f"confusion-{name}",
                "Row: the true class; column: the predicted one. The diagonal is what the model gets right; each "
                "cell's colour is its share of the row's images, its number the image count. A bright cell off "
                "the diagonal is a pair of classes the model mixes up.",
            )
            pairs = report.most_confused(3)
            st.caption(
                "Mixed up most: "
                + "; ".join(
                    f"{t} taken for {p} ({n} images, {share:.0%} of the {t})" for t, p, n, share in pairs
                )
            )
    show.figure(
        per_class_accuracy_bars({name: r.per_class_accuracy for name, r in reports.items()}, loaded.classes),
        "per-class-accuracy",
        "One group of bars per true class: the share of its images each model gets right. Bars of the SE model "
        "above its plain twin's are classes where SE helps; the gaps between classes show which are hard for both.",
    )

st.subheader("Images it gets wrong")
candidates = [im for im in library.chosen_images(loaded.classes) if im.true_class]
named = {im.sha for im in candidates}
for sample in library.fitting_samples(loaded.classes):  # every sample, chosen in the sidebar or not
    image = library.read_image(sample.name, sample.path.read_bytes(), sample.true_class, sample=True)
    if image.sha not in named:
        candidates.append(image)
wrong = [im for im in candidates if results.inspect_image(model, im).predicted_class != im.true_class]
if not candidates:
    st.info("No image with a known true class: upload one and give it its true class in the sidebar.")
elif not wrong:
    st.success(f"{loaded.name} gets all {len(candidates)} images with a known true class right.")
else:
    st.markdown(
        f"{loaded.name} gets **{len(wrong)} of {len(candidates)}** images with a known true class wrong "
        "(the samples, and your uploads once you give them their true class in the sidebar)."
    )
    image = library.pick("mistakes.image", wrong, "Misclassified image")
    result = results.inspect_image(model, image)
    show.image_result(model, image, result)
    if loaded.se_layers:
        show.figure(
            excitation_heatmap(result.excitations, title=f"Excitations of {image.name}, per SE layer"),
            f"excitations-wrong-{show.file_stem(image)}",
            "The gates of this misclassified image. Compare them on the Two images page with an image of the "
            f"class it was taken for ({result.predicted_class}) and of its true class ({image.true_class}).",
        )
    stem = image.name.removesuffix(".jpg")
    if image.sample and stem not in st.session_state.get("keep.samples", []):
        st.button(
            f"Add {image.name} to the chosen images, to open it on the other pages",
            key="mistakes-add",
            on_click=lambda: st.session_state.update(
                {"keep.samples": [*st.session_state.get("keep.samples", []), stem]}
            ),
        )
