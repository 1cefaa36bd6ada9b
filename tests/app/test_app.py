"""The dashboard through streamlit.testing's AppTest: every page with a sample; each bad upload refused once and
gone; each odd upload through every page; choices kept across pages; true classes, the camera, two images,
interventions, attributions, where the model is wrong; a checkpoint that is not CIFAR-10 on every page; uploaded
checkpoints refused for what they are; torchvision offline; the guided tour. Assertions read the rendered
elements: titles, messages, the predicted class against senet_lib's, and the numbers inside the figures."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import urllib.error

import numpy as np
import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from senet_lib.analysis.attribution import gate_attribution
from senet_lib.analysis.evaluation import read_eval
from senet_lib.analysis.images import decode_image, to_model_input
from senet_lib.analysis.inspection import LoadedModel, inspect
from senet_lib.analysis.probe import probe_probabilities
from senet_lib.analysis.profiles import profiles_from_json
from senet_lib.checkpoint import read_meta
from senet_lib.paths import REPO_ROOT, checkpoints_dir, samples_dir
from senet_lib.shipped import list_pretrained
from tests.app.checkpoints import CLASSES as OTHER_CLASSES
from tests.app.checkpoints import DATASET as OTHER_DATASET
from tests.app.checkpoints import non_cifar_checkpoint
from tests.upload_cases import BAD_IMAGES, CHECKPOINT_CASES, ODD_IMAGES, checkpoint_pairs, state_dict_pickle

APP = REPO_ROOT / "app" / "dashboard.py"
SAMPLES = samples_dir()
# The model the tests read (open_app selects it): the small SE-ResNet-20, whose 9 SE layers they name. The app's
# own default, the deepest shipped SE model, has its own test.
MODEL = "se_resnet20"
CHECKPOINT = checkpoints_dir() / MODEL
# page file -> (title, plotly figures for the default sample cat_1 on se_resnet20, whether it shows "Predicted")
PAGES = {
    "views/overview.py": ("SENet Lab: inside a Squeeze-and-Excitation network", 0, True),
    "views/excitations.py": ("Excitations, layer by layer", 4, True),
    "views/two_images.py": ("Two images, side by side", 0, False),
    "views/across_classes.py": ("Excitations across classes", 4, False),
    "views/mistakes.py": ("Where the model is wrong", 4, False),  # shows a misclassified sample
    "views/attribution.py": ("Attribution", 4, True),
    "views/intervene.py": ("Intervene on the gates", 2, False),
    "views/compare.py": ("Compare models", 2, True),  # beside resnet20 (plain: no excitation figure)
}
PAGE_IDS = [p.split("/")[1].removesuffix(".py") for p in PAGES]


@pytest.fixture(scope="module")
def shipped():
    return LoadedModel.from_checkpoint(CHECKPOINT)


def predict(loaded: LoadedModel, data: bytes, name: str = "image"):
    return inspect(loaded, to_model_input(decode_image(data, name).image, loaded.input_format))


def upload(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    """Drop files on the sidebar's image uploader (it empties itself after each upload: a new key)."""
    uploader = next(u for u in at.get("file_uploader") if u.key.startswith("images-"))
    uploader.set_value([(name, data, "application/octet-stream") for name, data in files]).run()
    assert not at.exception, at.exception
    return at


def open_app(
    page: str | None = None,
    uploads: list[tuple[str, bytes]] | None = None,
    samples: list[str] | None = None,
    model: str | None = MODEL,
) -> AppTest:
    """Run the app, set the sidebar (uploads through the real st.file_uploader, ``model``: None keeps the app's
    default), open ``page``."""
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    assert not at.exception, at.exception
    if model is not None and at.selectbox(key="model").value != model:
        at.selectbox(key="model").set_value(model).run()
    if samples is not None:
        at.multiselect(key="keep.samples").set_value(samples).run()
    if uploads:
        upload(at, uploads)
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def array(value) -> np.ndarray:
    """A figure's numbers as plotly serialises them: a list, or a typed array {dtype, bdata (base64), shape}."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.asarray(value, dtype=float)


def figure_titles(at: AppTest) -> list[str]:
    return [fig["layout"].get("title", {}).get("text", "") for fig in figures(at)]


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def all_text(at: AppTest) -> str:
    parts = [
        at.title,
        at.header,
        at.subheader,
        at.markdown,
        at.caption,
        at.info,
        at.warning,
        at.error,
        at.success,
    ]
    return "\n".join(t for elements in parts for t in texts(elements)) + "\n" + "\n".join(figure_titles(at))


def predictions(at: AppTest) -> list[str]:
    return [m.split("**")[1] for m in texts(at.markdown) if m.startswith("Predicted: **")]


def sha16(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def check_page(at: AppTest, page: str, n_figures: int | None = None) -> None:
    """Its title; every figure with a "how to read this" and a CSV button; no exception."""
    assert not at.exception, at.exception
    assert PAGES[page][0] in texts(at.title)
    n = len(at.get("plotly_chart"))
    if n_figures is not None:
        assert n == n_figures
    assert len(at.get("download_button")) == n  # a CSV beside every figure
    assert sum(c.startswith("**How to read this.**") for c in texts(at.caption)) == n


SAMPLE = (SAMPLES / "cat_1.jpg").read_bytes()


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_page_with_a_sample(page, shipped):
    at = open_app(page)  # the sidebar's default sample cat_1, on se_resnet20 (open_app's MODEL)
    if page == "views/compare.py":
        # beside the plain resnet20: the checkpoint offered first depends on what ships
        at.selectbox(key="keep.compare.other").set_value("resnet20").run()
    title, n_figures, shows_prediction = PAGES[page]
    check_page(at, page, n_figures)
    assert not at.error
    if shows_prediction:
        expected = predict(shipped, SAMPLE).predicted_class
        assert predictions(at)[0] == expected
        line = next(m for m in texts(at.markdown) if m.startswith("Predicted: **"))
        assert "· true class: cat, right" in line
        assert "cat_1.jpg as the model sees it: 32x32, shown x5" in [
            c for im in at.get("image") for c in im.captions
        ]


def test_the_app_opens_on_the_deepest_shipped_se_model():
    names = list_pretrained()
    expected = "se_resnet56" if "se_resnet56" in names else "se_resnet20"
    at = open_app(model=None)
    assert at.selectbox(key="model").value == expected
    assert (
        at.selectbox(key="model").options[0] == expected
        and sorted(at.selectbox(key="model").options) == names
    )


def test_overview_says_what_the_sidecar_says_and_computes_the_paper_verdict(shipped):
    at = open_app()
    caption = next(c for c in texts(at.caption) if "parameters ·" in c)
    acc = read_meta(CHECKPOINT)["metrics"]["val_acc"]
    assert (
        f"validation accuracy {acc:.2%} on the 5,000 validation images held out of cifar10-jpeg-train.tar.gz"
        in caption
    )
    verdict = next(m for m in texts(at.markdown) if m.startswith("**Does it reproduce the paper?**"))
    assert "reproduces 2 of the 3 paper findings checked here" in verdict
    se, plain = read_eval(CHECKPOINT), read_eval(checkpoints_dir() / "resnet20")
    assert f"{100 * (se.accuracy - plain.accuracy):+.2f} points" in all_text(at)
    assert "The original: 32x32 JPEG" in [c for im in at.get("image") for c in im.captions]


def test_excitation_page_numbers_are_senet_libs(shipped):
    at = open_app("views/excitations.py")
    heatmap, vs_classes, probe, reliability = figures(at)
    expected = predict(shipped, SAMPLE)
    z, rows = array(heatmap["data"][0]["z"]), heatmap["data"][0]["y"]
    assert heatmap["layout"]["title"]["text"] == "Excitations of cat_1.jpg, per SE layer"
    assert rows == list(expected.excitations) and z.shape == (9, 64)
    for row, s in zip(z, expected.excitations.values()):
        np.testing.assert_allclose(row[: len(s)], s.numpy(), rtol=1e-5)
        assert np.isnan(row[len(s) :]).all()  # shorter layers are padded
    assert vs_classes["layout"]["title"]["text"] == "Excitations vs class means, SE_4_3"
    assert [t["name"] for t in vs_classes["data"]] == ["class mean: cat", "cat_1.jpg"]
    layers, p = probe_probabilities(expected.excitations, shipped.probes)
    np.testing.assert_allclose(array(probe["data"][0]["z"]), p.numpy(), rtol=1e-5)
    guesses = [shipped.classes[k] for k in p.argmax(1).tolist()]
    agree = sum(g == expected.predicted_class for g in guesses)
    sentence = next(m for m in texts(at.markdown) if m.startswith("For this image, the probe's class"))
    assert f"in {agree} of 9 SE layers" in sentence
    rates = [shipped.probes[n].agreement for n in layers]
    assert f"in {min(rates):.0%} to {max(rates):.0%} of images" in sentence and "(chance: 10%)" in sentence
    np.testing.assert_allclose(array(reliability["data"][1]["y"]), rates)


@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_bad_upload_is_refused_once_and_leaves_nothing_behind(case):
    file_name, make, says = BAD_IMAGES[case]
    at = open_app(uploads=[(file_name, make())])
    errors = texts(at.error)
    assert len(errors) == 1 and errors[0].startswith(f"Not used: {file_name} ") and says in errors[0]
    assert errors[0].count(file_name) == 1  # named once
    assert "DOS attack" not in errors[0]  # PIL's own words are not for users
    assert [u.key for u in at.get("file_uploader") if u.key.startswith("images-")] == ["images-1"]  # emptied
    assert predictions(at) == ["cat"]  # the sample is still shown
    at.switch_page("views/excitations.py").run()
    assert not at.error and len(at.get("plotly_chart")) == 4  # the error is not repeated on the next page


@pytest.mark.parametrize("case", list(ODD_IMAGES))
def test_odd_upload_is_used_on_every_page(case, shipped):
    file_name, make, note = ODD_IMAGES[case]
    data = make()
    at = open_app(uploads=[(file_name, data)], samples=[])
    expected = predict(shipped, data, file_name).predicted_class
    assert predictions(at) == [expected]
    if note:
        assert any(note in c for c in texts(at.caption) if c.startswith("On the way in: "))
    for page in PAGES:
        at.switch_page(page).run()
        check_page(at, page)
        assert not at.error
        if PAGES[page][2]:
            assert predictions(at)[0] == expected


def test_uploads_and_choices_are_kept_across_pages():
    names = ["dog_2.jpg", "ship_3.jpg", "frog_1.jpg"]
    at = open_app(uploads=[(n, (SAMPLES / n).read_bytes()) for n in names[:2]])
    upload(at, [(names[2], (SAMPLES / names[2]).read_bytes())])  # a second upload adds, it never drops
    at.switch_page("views/excitations.py").run()
    picker = at.selectbox(key="keep.excitations.image")
    assert picker.options == names[::-1] + ["cat_1.jpg"]  # newest first
    picker.set_value(hashlib.sha256((SAMPLES / "ship_3.jpg").read_bytes()).hexdigest()).run()
    at.selectbox(key="keep.excitations.layer").set_value("SE_3_1").run()
    classes_key = f"keep.excitations.classes.{sha16((SAMPLES / 'ship_3.jpg').read_bytes())}"
    at.multiselect(key=classes_key).set_value(["ship", "truck", "bird"]).run()
    at.switch_page("views/across_classes.py").run()
    at.switch_page("views/overview.py").run()
    assert len(predictions(at)) == 4  # every upload is still there
    at.switch_page("views/excitations.py").run()
    assert figure_titles(at)[0] == "Excitations of ship_3.jpg, per SE layer"
    assert at.selectbox(key="keep.excitations.layer").value == "SE_3_1"
    assert at.multiselect(key=classes_key).value == ["ship", "truck", "bird"]


def test_the_class_picker_follows_the_image(shipped):
    data = {n: (SAMPLES / n).read_bytes() for n in ("dog_2.jpg", "ship_3.jpg")}
    at = open_app("views/excitations.py", uploads=list(data.items()), samples=[])
    for raw in data.values():
        at.selectbox(key="keep.excitations.image").set_value(hashlib.sha256(raw).hexdigest()).run()
        chosen = at.multiselect(key=f"keep.excitations.classes.{sha16(raw)}").value
        assert chosen == [predict(shipped, raw).predicted_class]  # this image's own default


def test_an_upload_given_its_true_class(shipped):
    raw = (SAMPLES / "deer_3.jpg").read_bytes()  # a deer the model takes for something else
    predicted = predict(shipped, raw).predicted_class
    assert predicted != "deer"
    at = open_app(uploads=[("field.jpg", raw)], samples=[])
    at.selectbox(key=f"keep.truth.{sha16(raw)}").set_value("deer").run()
    assert any("· true class: deer, **wrong**" in m for m in texts(at.markdown))
    at.switch_page("views/attribution.py").run()
    headers = [m for m in texts(at.markdown) if m.startswith("#### Why")]
    assert headers == [f"#### Why the prediction ({predicted})?", "#### Why the true class (deer)?"]
    assert figure_titles(at)[1::2] == [f"Gate attribution for '{predicted}'", "Gate attribution for 'deer'"]
    at.switch_page("views/mistakes.py").run()
    assert at.selectbox(key="keep.mistakes.image").options[0] == "field.jpg"  # the labelled upload first


def test_remove_an_upload_and_the_camera():
    raw = (SAMPLES / "dog_2.jpg").read_bytes()
    at = open_app(uploads=[("dog.jpg", raw)], samples=[])
    at.button(key=f"remove-{sha16(raw)}").click().run()
    assert predictions(at) == [] and "Choose a sample or upload an image" in at.info[0].value
    at.toggle(key="camera-on").set_value(True).run()
    at.camera_input(key="camera-0").set_value(("shot.jpg", raw, "image/jpeg")).run()
    assert not at.exception and len(predictions(at)) == 1
    assert "photo-1.jpg as the model sees it: 32x32, shown x5" in [
        c for im in at.get("image") for c in im.captions
    ]


def test_two_images_and_their_difference(shipped):
    data = {n: (SAMPLES / n).read_bytes() for n in ("cat_2.jpg", "truck_1.jpg")}
    at = open_app("views/two_images.py", uploads=list(data.items()), samples=[])
    check_page(at, "views/two_images.py", 4)
    a, b = (predict(shipped, raw) for raw in list(data.values())[::-1])  # newest first: truck is A
    diff = figures(at)[2]
    assert diff["layout"]["title"]["text"] == "A - B: truck_1.jpg minus cat_2.jpg"
    z = array(diff["data"][0]["z"])
    np.testing.assert_allclose(z[-1], (a.excitations["SE_4_3"] - b.excitations["SE_4_3"]).numpy(), atol=1e-6)
    rms = array(figures(at)[3]["data"][0]["y"])
    assert rms[-1] == pytest.approx(
        float((a.excitations["SE_4_3"] - b.excitations["SE_4_3"]).pow(2).mean().sqrt())
    )


def test_plain_model_on_the_pages():
    at = open_app("views/excitations.py", model="resnet20")
    assert "resnet20 has no SE layers" in at.warning[0].value and not at.get("plotly_chart")
    at.switch_page("views/attribution.py").run()
    assert len(at.get("plotly_chart")) == 2 and "has no SE gates" in at.info[0].value
    at.switch_page("views/compare.py").run()
    labels = [m for m in texts(at.markdown) if m.startswith("#### ")]
    assert labels[:2] == ["#### se_resnet20", "#### resnet20"]  # the SE twin first, found by the sidecars


def test_across_classes_shows_the_sidecar_profiles():
    at = open_app("views/across_classes.py")
    at.selectbox(key="keep.across.layer").set_value("SE_2_1").run()
    profile = profiles_from_json(read_meta(CHECKPOINT)["class_profiles"])["SE_2_1"]
    fig6, depth, probes, spread = figures(at)
    np.testing.assert_allclose(array(fig6["data"][0]["z"]), profile.means.numpy(), rtol=1e-5)
    assert fig6["layout"]["title"]["text"] == "Class-mean excitations, SE_2_1"
    assert depth["data"][0]["x"][-1] == "SE_4_3" and len(array(depth["data"][0]["y"])) == 9
    assert spread["layout"]["title"]["text"] == "Excitation per channel by class, SE_2_1"
    assert [t.get("name") for t in spread["data"] if t.get("name")] == [
        "airplane (3)",
        "automobile (3)",
        "bird (3)",
        "all (9)",
    ]


def test_across_classes_flags_layers_whose_gates_hardly_move():
    profiles = profiles_from_json(read_meta(CHECKPOINT)["class_profiles"])
    constant = [name for name, p in profiles.items() if p.near_constant]
    assert constant, "the shipped se_resnet20 has a near-constant SE layer (SE_2_2); this test reads it"
    moving = next(name for name in profiles if name not in constant)
    at = open_app("views/across_classes.py")
    at.selectbox(key="keep.across.layer").set_value(constant[0]).run()
    note = [i.value for i in at.info if "hardly depend on the image" in i.value]
    assert len(note) == 1 and f"{profiles[constant[0]].spread:.1e}" in note[0]
    depth, probes = figures(at)[1:3]
    assert list(depth["data"][1]["x"]) == constant and depth["data"][1]["marker"]["symbol"] == "x"
    assert list(probes["data"][-1]["x"]) == constant and probes["data"][-1]["marker"]["symbol"] == "x"
    at.selectbox(key="keep.across.layer").set_value(moving).run()
    assert not [i.value for i in at.info if "hardly depend on the image" in i.value]


def test_attribution_methods_have_their_own_words():
    at = open_app("views/attribution.py")
    seen = set()
    for method in ("Integrated Gradients", "Saliency", "Grad-CAM"):
        at.radio(key="keep.attribution.method").set_value(method).run()
        assert figure_titles(at)[0] == f"{method} for 'cat', cat_1.jpg"
        assert array(figures(at)[0]["data"][1]["z"]).shape == (32, 32)
        how = [c for c in texts(at.caption) if c.startswith("**How to read this.**")][0]
        seen.add(how)
    assert len(seen) == 3  # one reading per method
    key = f"keep.attribution.other.{sha16(SAMPLE)}"
    at.selectbox(key=key).set_value(0).run()
    assert figure_titles(at)[2:] == ["Grad-CAM for 'airplane', cat_1.jpg", "Gate attribution for 'airplane'"]


def test_intervene_defaults_and_what_it_changes(shipped):
    at = open_app("views/intervene.py")
    x = to_model_input(decode_image(SAMPLE).image, shipped.input_format)
    before = inspect(shipped, x)
    assert at.selectbox(key="keep.intervene.layer").value == "SE_4_1"  # layers after it can respond
    key = f"keep.intervene.channels.{sha16(SAMPLE)}"
    for layer in ("SE_4_1", "SE_3_2"):  # the top-3 by gate attribution, recomputed for each layer
        at.selectbox(key="keep.intervene.layer").set_value(layer).run()
        gates = gate_attribution(shipped.model, x, before.predicted)[layer][0]
        assert sorted(at.multiselect(key=f"{key}.{layer}").value) == sorted(
            gates.argsort(descending=True)[:3].tolist()
        )
    at.radio(key="keep.intervene.mode").set_value("scale the gates").run()
    assert at.slider(key="keep.intervene.factor").value == 1.0
    line = next(m for m in texts(at.markdown) if "gate(s) of SE_3_2 multiplied by 1" in m)
    assert line.endswith(f"→ **cat** ({before.probs.max():.1%}).")  # factor 1 changes nothing
    at.radio(key="keep.intervene.mode").set_value("switch off (s = 0)").run()
    at.checkbox(key="keep.intervene.all").check().run()
    after = inspect(shipped, x, {"SE_3_2": {c: 0.0 for c in range(32)}})
    line = next(m for m in texts(at.markdown) if m.startswith("**32 gate(s) of SE_3_2 set to 0**"))
    assert line.endswith(f"→ **{after.predicted_class}** ({after.probs.max():.1%}).")
    change = array(figures(at)[1]["data"][0]["z"])  # after - before, layers x channels
    assert np.nanmax(np.abs(change[:4])) == 0  # SE_2_1 .. SE_3_1: before the intervention
    np.testing.assert_allclose(change[4, :32], -before.excitations["SE_3_2"].numpy(), atol=1e-6)
    assert np.nanmax(np.abs(change[5:])) > 0  # the layers after it respond
    at.checkbox(key="keep.intervene.all").uncheck().run()
    at.multiselect(key=f"{key}.SE_3_2").set_value([]).run()
    assert "Choose at least one channel" in at.info[0].value


def test_where_it_is_wrong(shipped):
    at = open_app("views/mistakes.py")
    confusion_se, confusion_plain, per_class = figures(at)[:3]
    se = read_eval(CHECKPOINT)
    np.testing.assert_allclose(array(confusion_se["data"][0]["z"]), se.rates(), rtol=1e-6)
    assert confusion_plain["layout"]["title"]["text"] == "Confusion matrix, resnet20"
    np.testing.assert_allclose(array(per_class["data"][0]["y"]), se.per_class_accuracy)
    wrong = [
        p.name
        for p in sorted(SAMPLES.glob("*.jpg"))
        if predict(shipped, p.read_bytes()).predicted_class != p.stem.rsplit("_", 1)[0]
    ]
    assert f"gets **{len(wrong)} of 30** images with a known true class wrong" in all_text(at)
    assert at.selectbox(key="keep.mistakes.image").options == wrong


@pytest.fixture(scope="module")
def other_checkpoint(tmp_path_factory):
    return non_cifar_checkpoint(tmp_path_factory.mktemp("shapes"))


def upload_checkpoint(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    uploader = next(u for u in at.get("file_uploader") if u.key.startswith("checkpoint-"))
    uploader.set_value([(n, d, "application/octet-stream") for n, d in files]).run()
    assert not at.exception, at.exception
    return at


def test_a_checkpoint_that_is_not_cifar_on_every_page(other_checkpoint):
    weights, sidecar = other_checkpoint
    at = upload_checkpoint(open_app(), [("shapes.safetensors", weights), ("shapes.json", sidecar)])
    assert "Loaded se_resnet20 (uploaded shapes.safetensors)" in at.success[0].value
    assert at.selectbox(key="model").value == "uploaded: shapes.safetensors"
    assert not [m for m in at.get("multiselect") if m.key == "keep.samples"]  # no CIFAR-10 samples offered
    upload(at, [("photo.jpg", (SAMPLES / "horse_1.jpg").read_bytes())])
    at.selectbox(key=f"keep.truth.{sha16((SAMPLES / 'horse_1.jpg').read_bytes())}").set_value("bee").run()
    for page in PAGES:
        at.switch_page(page).run()
        check_page(at, page)
        text = all_text(at)
        assert not at.error, page
        # Compare also shows a shipped model beside it, in that model's own words
        if page != "views/compare.py":
            assert "CIFAR" not in text.upper() and "5,000" not in text, page
            assert all(shown in OTHER_CLASSES for shown in predictions(at))
    at.switch_page("views/attribution.py").run()
    for method in ("Saliency", "Grad-CAM"):  # each method's own words: none about CIFAR-10 either
        at.radio(key="keep.attribution.method").set_value(method).run()
        assert not at.exception and "CIFAR" not in all_text(at).upper()
    at.switch_page("views/overview.py").run()
    assert f"on the 400 validation images held out of {OTHER_DATASET}" in all_text(at)
    at.switch_page("views/compare.py").run()
    assert "No shipped checkpoint is se_resnet20's twin" in all_text(at)  # not paired with CIFAR's resnet20
    own = f"validation accuracy 25.00% on the 400 validation images held out of {OTHER_DATASET}"
    assert any(c.endswith(own) for c in texts(at.caption))


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return checkpoint_pairs(tmp_path_factory.mktemp("ckpt"))


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_a_checkpoint_that_is_not_what_it_claims_is_refused(case, pairs):
    make, says = CHECKPOINT_CASES[case]
    weights, sidecar = make(pairs)
    at = upload_checkpoint(open_app(), [("yours.safetensors", weights), ("yours.json", sidecar)])
    assert len(at.error) == 1 and at.error[0].value.startswith("The uploaded checkpoint cannot be used: ")
    assert says in at.error[0].value
    assert at.selectbox(key="model").value == "se_resnet20" and predictions(at) == ["cat"]  # nothing lost


@pytest.mark.parametrize(
    "files,says",
    [
        ([("model.pt", state_dict_pickle())], "PyTorch pickle files are never opened here"),
        ([("weights.pth", b"\x80\x02}q\x00."), ("weights.json", b"{}")], "never opened"),
        ([("mine.safetensors", b"x")], "Upload exactly two files"),
        ([("a.json", b"{}"), ("b.json", b"{}")], "Upload exactly two files"),
    ],
    ids=["pickle .pt", "pickle .pth with a sidecar", "weights alone", "two sidecars"],
)
def test_pickles_and_incomplete_pairs_are_refused(files, says):
    at = upload_checkpoint(open_app(), files)
    assert len(at.error) == 1 and says in at.error[0].value


@pytest.fixture
def offline_torchvision(tmp_path, monkeypatch):
    """No hub cache and no network for the torchvision networks; their cached models are forgotten around it."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_torchvision_is_collapsed_and_says_random_weights_mean_nothing(offline_torchvision):
    at = open_app("views/compare.py")
    assert not any("mobilenet" in t for t in texts(at.markdown))  # collapsed: nothing built
    at.session_state["compare.torchvision"] = True
    at.run()
    assert any(w.startswith("mobilenet_v3_small runs with random weights here") for w in texts(at.warning))
    assert any("predictions and excitations below mean nothing" in w for w in texts(at.warning))
    assert "#### mobilenet_v3_small (torchvision, RANDOM weights: architecture only)" in texts(at.markdown)
    at.button(key="torchvision-download").click().run()
    notices = [w for w in texts(at.warning) if w.startswith("RANDOM WEIGHTS")]
    assert "could not be downloaded" in notices[0] and "offline" in notices[0]


def test_the_guided_tour_walks_through_the_pages():
    at = open_app()
    at.button(key="tour-start").click().run()
    assert any(m.startswith("**Guided tour, step 1 of 6.**") for m in texts(at.markdown))
    at.button(key="tour-next").click().run()
    assert "Excitations, layer by layer" in texts(at.title)
    assert any(m.startswith("**Guided tour, step 2 of 6.**") for m in texts(at.markdown))
    at.button(key="tour-end").click().run()
    assert not any(m.startswith("**Guided tour") for m in texts(at.markdown))


def test_the_app_has_no_import_side_effects_and_no_path_tricks():
    code = (
        "import sys, torch; sys.path.insert(0, 'app'); n = torch.get_num_threads(); "
        "import ui.models, ui.sidebar, ui.results, ui.show, ui.tour; "
        "assert torch.get_num_threads() == n, (n, torch.get_num_threads())"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)
    sources = [p for p in (REPO_ROOT / "app").rglob("*.py")]
    assert not [p for p in sources if re.search(r"sys\.path", p.read_text())]
    assert not (REPO_ROOT / "app" / "pages").exists()  # st.navigation, not the pages/ folder
