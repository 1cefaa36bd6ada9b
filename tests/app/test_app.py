"""The dashboard through streamlit.testing's AppTest: every page with a sample, with each bad and odd upload
(upload_cases.py), with several images, a plain model, interventions, attributions, uploaded checkpoints and
torchvision networks offline. Assertions read the rendered elements: titles, error and notice texts, the
predicted class against senet_lib's, and the numbers inside the plotly figures."""

from __future__ import annotations

import base64
import json
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from senet_lib.analysis.images import decode_image, to_model_input
from senet_lib.analysis.inspection import LoadedModel, inspect
from senet_lib.analysis.profiles import profiles_from_json
from senet_lib.checkpoint import read_meta
from senet_lib.paths import REPO_ROOT, checkpoints_dir, samples_dir
from tests.upload_cases import BAD_IMAGES, CHECKPOINT_CASES, ODD_IMAGES, checkpoint_pairs, state_dict_pickle

ROOT = REPO_ROOT
HOME = ROOT / "app" / "Home.py"
SAMPLES = samples_dir()
CHECKPOINT = checkpoints_dir() / "se_resnet20"
# page file -> (title, plotly figures drawn for one SE-model image, whether it shows "Predicted: ...")
PAGES = {
    None: ("SENet Lab: inside a Squeeze-and-Excitation network", 0, True),
    "pages/1_Excitations.py": ("Excitations, layer by layer", 3, True),
    "pages/2_Across_classes.py": ("Excitations across classes", 3, False),
    "pages/3_Attribution.py": ("Attribution", 2, True),
    "pages/4_Intervene.py": ("Intervene on the gates", 2, False),
    "pages/5_Compare.py": ("Compare models", 2, True),
}
PAGE_IDS = ["Overview" if p is None else Path(p).stem for p in PAGES]


@pytest.fixture(scope="module")
def shipped():
    return LoadedModel.from_checkpoint(CHECKPOINT)


def predict(loaded: LoadedModel, data: bytes, name: str):
    return inspect(loaded, to_model_input(decode_image(data, name).image, loaded.input_format))


def open_app(
    page: str | None = None,
    uploads: list[tuple[str, bytes]] | None = None,
    samples: list[str] | None = None,
    model: str | None = None,
) -> AppTest:
    """Run the app, set the sidebar (uploads through the real st.file_uploader), open ``page``."""
    at = AppTest.from_file(str(HOME), default_timeout=120).run()
    assert not at.exception, at.exception
    if samples is not None:
        at.multiselect(key="samples").set_value(samples)
    if uploads:
        at.file_uploader(key="uploads").set_value(
            [(name, data, "application/octet-stream") for name, data in uploads]
        )
    if model is not None:
        at.selectbox(key="model_choice").set_value(model)
    if samples is not None or uploads or model is not None:
        at.run()  # as a user does: choose in the sidebar, then open a page (the choice stays)
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


def image_captions(at: AppTest) -> list[str]:
    return [caption for image in at.get("image") for caption in image.captions]


def predictions(at: AppTest) -> list[str]:
    return [m.split("**")[1] for m in texts(at.markdown) if m.startswith("Predicted: **")]


def check_page(at: AppTest, page: str | None, n_figures: int) -> None:
    title, _, _ = PAGES[page]
    assert title in texts(at.title)
    assert len(at.get("plotly_chart")) >= n_figures
    assert len(at.get("download_button")) == len(at.get("plotly_chart"))  # a CSV beside every figure


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_page_with_a_sample(page, shipped):
    at = open_app(page)  # the sidebar's default: the sample cat_1
    title, n_figures, shows_prediction = PAGES[page]
    check_page(at, page, n_figures)
    assert not at.error and len(at.get("plotly_chart")) == n_figures
    expected = predict(shipped, (SAMPLES / "cat_1.jpg").read_bytes(), "cat_1.jpg")
    if shows_prediction:
        assert predictions(at)[0] == expected.predicted_class
        assert any(m.endswith("· true class: cat") for m in texts(at.markdown))
        assert "cat_1.jpg as the model sees it: 32x32, shown x5" in image_captions(at)


def test_excitation_heatmap_holds_the_images_excitations(shipped):
    at = open_app("pages/1_Excitations.py")
    heatmap = figures(at)[0]
    assert heatmap["layout"]["title"]["text"] == "Excitations of cat_1.jpg, per SE layer"
    z, rows = array(heatmap["data"][0]["z"]), heatmap["data"][0]["y"]
    expected = predict(shipped, (SAMPLES / "cat_1.jpg").read_bytes(), "cat_1.jpg").excitations
    assert rows == list(expected) and z.shape == (9, 64)
    for row, s in zip(z, expected.values()):
        np.testing.assert_allclose(row[: len(s)], s.numpy(), rtol=1e-5)
        assert np.isnan(row[len(s) :]).all()  # shorter layers are padded
    vs_classes = figures(at)[1]
    assert vs_classes["layout"]["title"]["text"] == "Excitations vs class means, SE_4_3"
    assert [t["name"] for t in vs_classes["data"]] == ["class mean: cat", "cat_1.jpg"]


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_bad_upload_shows_an_error_and_the_page_keeps_working(case, page):
    file_name, make, says = BAD_IMAGES[case]
    at = open_app(page, uploads=[(file_name, make())])
    errors = texts(at.error)
    assert len(errors) == 1 and errors[0].startswith(f"**{file_name}** was not used.") and says in errors[0]
    check_page(at, page, PAGES[page][1])  # still drawn, for the sample that is still chosen


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
@pytest.mark.parametrize("case", list(ODD_IMAGES))
def test_odd_upload_is_used_on_every_page(case, page, shipped):
    file_name, make, note = ODD_IMAGES[case]
    data = make()
    at = open_app(page, uploads=[(file_name, data)], samples=[])
    assert not at.error
    check_page(at, page, PAGES[page][1])
    if PAGES[page][2]:  # the upload is the page's image: its prediction, computed by senet_lib, is shown
        assert predictions(at)[0] == predict(shipped, data, file_name).predicted_class
    if note and PAGES[page][2]:
        assert any(note in c for c in texts(at.caption) if c.startswith("Adjusted on load: "))


def test_several_uploads_at_once(shipped):
    names = ["dog_2.jpg", "ship_3.jpg", "frog_1.jpg"]
    uploads = [(n, (SAMPLES / n).read_bytes()) for n in names]
    at = open_app(uploads=uploads + [("empty.png", b"")])
    assert predictions(at) == [predict(shipped, d, n).predicted_class for n, d in uploads] + ["cat"]
    assert len(at.error) == 1 and "empty.png" in at.error[0].value
    at.switch_page("pages/1_Excitations.py").run()
    picker = at.selectbox(key="excitations-image")
    assert picker.options == names + ["cat_1.jpg"]
    picker.set_value(2).run()
    assert figure_titles(at)[0] == "Excitations of frog_1.jpg, per SE layer"


def test_no_image_chosen():
    at = open_app("pages/1_Excitations.py", samples=[])
    assert "Choose a CIFAR-10 sample or upload an image" in at.info[0].value and not at.get("plotly_chart")


def test_plain_model_on_the_excitation_pages():
    at = open_app("pages/1_Excitations.py", model="resnet20")
    assert "resnet20 has no SE layers" in at.warning[0].value and not at.get("plotly_chart")
    at.switch_page("pages/3_Attribution.py").run()
    assert len(at.get("plotly_chart")) == 1 and "has no SE gates" in at.info[0].value
    at.switch_page("pages/5_Compare.py").run()
    labels = [m for m in texts(at.markdown) if m.startswith("#### ")]
    assert labels[:2] == ["#### se_resnet20", "#### resnet20"]  # the SE twin first


def test_across_classes_shows_the_sidecar_profiles():
    at = open_app("pages/2_Across_classes.py")
    at.selectbox(key="across-layer").set_value("SE_2_1").run()
    profile = profiles_from_json(read_meta(CHECKPOINT)["class_profiles"])["SE_2_1"]
    fig6, depth, spread = figures(at)
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


def test_attribution_methods_and_target_class():
    at = open_app("pages/3_Attribution.py")
    assert figure_titles(at)[0] == "Integrated Gradients for 'cat', cat_1.jpg"
    for method in ("Saliency", "Grad-CAM"):
        at.radio(key="attribution-method").set_value(method).run()
        assert figure_titles(at)[0] == f"{method} for 'cat', cat_1.jpg"
        assert array(figures(at)[0]["data"][1]["z"]).shape == (32, 32)
    at.selectbox(key="attribution-target").set_value(0).run()
    assert figure_titles(at) == ["Grad-CAM for 'airplane', cat_1.jpg", "Gate attribution for 'airplane'"]


def test_intervention_moves_the_prediction_as_senet_lib_says(shipped):
    at = open_app("pages/4_Intervene.py")
    at.checkbox(key="intervene-all").check().run()
    after = inspect(
        shipped,
        to_model_input(decode_image((SAMPLES / "cat_1.jpg").read_bytes()).image, shipped.input_format),
        {"SE_4_3": {c: 0.0 for c in range(64)}},
    )
    line = next(m for m in texts(at.markdown) if m.startswith("**64 gate(s) of SE_4_3 set to 0**"))
    assert line.endswith(f"→ **{after.predicted_class}** ({after.probs.max():.1%}).")
    bars = figures(at)[0]
    assert [t["name"] for t in bars["data"]] == ["unmodified", "intervened"]
    np.testing.assert_allclose(
        np.sort(array(bars["data"][1]["y"]))[::-1], after.probs.sort(descending=True)[0], rtol=1e-5
    )
    at.checkbox(key="intervene-all").uncheck().run()
    at.radio(key="intervene-mode").set_value("set to a value").run()
    at.slider(key="intervene-value").set_value(0.5).run()
    assert any(m.startswith("**3 gate(s) of SE_4_3 set to 0.5**") for m in texts(at.markdown))
    at.multiselect(key="intervene-channels").set_value([]).run()
    assert "Choose at least one channel" in at.info[0].value


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return checkpoint_pairs(tmp_path_factory.mktemp("ckpt"))


def upload_checkpoint(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    at.file_uploader(key="checkpoint").set_value([(n, d, "application/octet-stream") for n, d in files]).run()
    assert not at.exception, at.exception
    return at


def test_compare_with_an_uploaded_checkpoint(pairs):
    at = open_app("pages/5_Compare.py")
    weights, sidecar = pairs["se"]
    upload_checkpoint(at, [("mine.safetensors", weights), ("mine.json", sidecar)])
    assert not at.error and "Loaded se_resnet20 (uploaded mine.safetensors)" in at.success[0].value
    assert "#### se_resnet20 (uploaded mine.safetensors)" in texts(at.markdown)
    assert "uploaded: mine.safetensors" in at.selectbox(key="model_choice").options  # usable on every page


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_compare_refuses_a_checkpoint_that_is_not_what_it_claims(case, pairs):
    make, says = CHECKPOINT_CASES[case]
    weights, sidecar = make(pairs)
    at = upload_checkpoint(
        open_app("pages/5_Compare.py"), [("yours.safetensors", weights), ("yours.json", sidecar)]
    )
    assert len(at.error) == 1 and at.error[0].value.startswith("The uploaded checkpoint cannot be used: ")
    assert says in at.error[0].value
    assert "Compare models" in texts(at.title) and len(at.get("plotly_chart")) == 2  # the rest still works


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
def test_compare_refuses_pickles_and_incomplete_pairs(files, says):
    at = upload_checkpoint(open_app("pages/5_Compare.py"), files)
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


def test_compare_torchvision_offline_gives_a_notice_and_random_weights(offline_torchvision):
    at = open_app("pages/5_Compare.py")
    notices = [w for w in texts(at.warning) if w.startswith("RANDOM WEIGHTS")]
    assert len(notices) == 1 and "mobilenet_v3_small are not in the torch hub cache" in notices[0]
    assert "#### mobilenet_v3_small (torchvision, RANDOM weights: architecture only)" in texts(at.markdown)
    assert figure_titles(at)[-1] == "Excitations, mobilenet_v3_small"
    at.button(key="torchvision-download").click().run()
    notices = [w for w in texts(at.warning) if w.startswith("RANDOM WEIGHTS")]
    assert "could not be downloaded" in notices[0] and "offline" in notices[0]
    at.selectbox(key="torchvision-model").set_value("regnet_y_400mf").run()
    assert "#### regnet_y_400mf (torchvision, RANDOM weights: architecture only)" in texts(at.markdown)
    assert not at.exception
