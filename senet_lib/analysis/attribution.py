"""Which pixels, and which SE channels, a prediction rests on: Captum wrappers returning plain tensors.

Input attributions -- Integrated Gradients (Sundararajan et al. 2017), Saliency (Simonyan et al. 2014),
Grad-CAM (Selvaraju et al. 2017) -- give an (N, H, W) map per image. :func:`gate_attribution` asks the
same question of the excitations ``s`` (Eq. 3): how much each SE channel's gate contributes to a logit.
Every function runs the model in eval mode (restored after) and returns detached tensors on the CPU.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
from captum.attr import (
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    LayerGradientXActivation,
    Saliency,
)
from torch import nn

from senet_lib.analysis.excitation import override_gates, record_excitations
from senet_lib.se_layers import gate_module, select_se_layers

__all__ = [
    "GATE_METHODS",
    "default_cam_layer",
    "gate_attribution",
    "grad_cam",
    "integrated_gradients",
    "saliency",
]

#: Methods of :func:`gate_attribution`.
GATE_METHODS = ("gradient_x_activation", "integrated_gradients")

Target = int | Sequence[int] | torch.Tensor | None


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            yield
    finally:
        model.train(was_training)


def _check_images(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Images as a detached (N, C, H, W) tensor on the model's device and in its dtype."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"images must be a torch.Tensor of shape (N, 3, H, W); got {type(images).__name__}")
    if images.dim() != 4:
        hint = "; add a batch dimension with images[None]" if images.dim() == 3 else ""
        raise ValueError(f"images must have shape (N, 3, H, W); got {tuple(images.shape)}{hint}")
    if images.shape[0] == 0:
        raise ValueError("images is an empty batch (N = 0); pass at least one image")
    param = next(model.parameters(), None)
    if param is None:
        return images.detach()
    return images.detach().to(param.device, param.dtype if param.is_floating_point() else images.dtype)


def _check_target(target: Target, logits: torch.Tensor) -> torch.Tensor:
    """Target classes as a (N,) long tensor; ``None`` means the predicted class (argmax of the logits)."""
    n, num_classes = logits.shape
    if target is None:
        return logits.argmax(1)
    if isinstance(target, bool) or (isinstance(target, torch.Tensor) and target.is_floating_point()):
        raise ValueError(f"target must be an int class index or a sequence/tensor of them; got {target!r}")
    t = torch.as_tensor(target, dtype=torch.long, device=logits.device)
    if t.dim() == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(
            f"target must be one int or one class index per image, shape ({n},); got shape {tuple(t.shape)}"
        )
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        raise ValueError(
            f"target {t.tolist()} out of range: the model has {num_classes} classes (0..{num_classes - 1})"
        )
    return t


def _prepare(model: nn.Module, images: torch.Tensor, target: Target) -> tuple[torch.Tensor, torch.Tensor]:
    images = _check_images(model, images)
    with torch.no_grad():
        logits = model(images)  # (N, K)
    if logits.dim() != 2:
        raise ValueError(
            f"the model must return logits of shape (N, classes); it returned {tuple(logits.shape)}"
        )
    return images, _check_target(target, logits)


def integrated_gradients(
    model: nn.Module,
    images: torch.Tensor,
    target: Target = None,
    baseline: torch.Tensor | float | None = None,
    steps: int = 32,
    internal_batch_size: int | None = None,
    return_delta: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Integrated Gradients maps (N, H, W): the signed sum over colour channels, so each map sums to
    logit(x) - logit(baseline) (the completeness axiom) up to the convergence delta (N,), returned
    with ``return_delta=True``. ``baseline`` None = zeros (on normalised inputs: the dataset-mean image).
    """
    if steps < 1:
        raise ValueError(f"steps must be a positive integer (Riemann/Gauss-Legendre points); got {steps}")
    with _eval_mode(model):
        images, t = _prepare(model, images, target)
        if baseline is None:
            baseline = torch.zeros_like(images)
        elif isinstance(baseline, torch.Tensor):
            baseline = baseline.to(images.device, images.dtype)
            try:
                baseline = baseline.expand_as(images)
            except RuntimeError:
                raise ValueError(
                    f"baseline of shape {tuple(baseline.shape)} does not broadcast to the images' "
                    f"shape {tuple(images.shape)}"
                ) from None
        attr, delta = IntegratedGradients(model).attribute(
            images,
            baselines=baseline,
            target=t,
            n_steps=steps,
            internal_batch_size=internal_batch_size,
            return_convergence_delta=True,
        )
    maps = attr.sum(1).detach().cpu()  # (N, 3, H, W) -> (N, H, W), signed
    return (maps, delta.detach().cpu()) if return_delta else maps


def saliency(model: nn.Module, images: torch.Tensor, target: Target = None) -> torch.Tensor:
    """Saliency maps (N, H, W): ``max_c |d logit / d x_c|`` over the colour channels (Simonyan et al. 2014)."""
    with _eval_mode(model):
        images, t = _prepare(model, images, target)
        grads = Saliency(model).attribute(images.requires_grad_(), target=t, abs=True)  # (N, 3, H, W)
    return grads.amax(1).detach().cpu()  # (N, 3, H, W) -> (N, H, W)


def default_cam_layer(model: nn.Module) -> nn.Module:
    """The last convolutional stage ``layerK`` of a ResNet-style model (Grad-CAM's usual choice)."""
    stages = [
        (int(m[1]), module)
        for name, module in model.named_children()
        if (m := re.fullmatch(r"layer(\d+)", name))
    ]
    if not stages:
        raise ValueError(
            f"{type(model).__name__} has no 'layerK' stage; pass the Grad-CAM layer explicitly, "
            "e.g. layer=model.features[-1] or layer='features.7'"
        )
    return max(stages, key=lambda s: s[0])[1]


def grad_cam(
    model: nn.Module,
    images: torch.Tensor,
    target: Target = None,
    layer: nn.Module | str | None = None,
    upsample: bool = True,
) -> torch.Tensor:
    """Grad-CAM maps (N, H, W) >= 0: ReLU(sum_k alpha_k A_k), alpha_k the spatial mean of d logit / d A_k.

    ``layer`` is a module or its dotted name (default: the last stage ``layerK``); with ``upsample`` the
    (h, w) layer map is resized bilinearly to the input size (bilinear keeps it non-negative).
    """
    if layer is None:
        layer = default_cam_layer(model)
    elif isinstance(layer, str):
        try:
            layer = model.get_submodule(layer)
        except AttributeError:
            raise ValueError(
                f"the model has no submodule {layer!r}; see model.named_modules() for names"
            ) from None
    with _eval_mode(model):
        images, t = _prepare(model, images, target)
        cam = LayerGradCam(model, layer).attribute(images, target=t, relu_attributions=True)  # (N, 1, h, w)
    if cam.dim() != 4:
        raise ValueError(
            f"Grad-CAM needs a convolutional layer with output (N, C, h, w); got {tuple(cam.shape)}"
        )
    if upsample:
        cam = LayerAttribution.interpolate(cam, tuple(images.shape[-2:]), interpolate_mode="bilinear")
    return cam[:, 0].detach().cpu()  # (N, 1, H, W) -> (N, H, W)


def gate_attribution(
    model: nn.Module,
    images: torch.Tensor,
    target: Target = None,
    layers: Iterable[str] | None = None,
    method: str = "gradient_x_activation",
    steps: int = 16,
) -> dict[str, torch.Tensor]:
    """Attribution of the target logit to each SE layer's excitations: layer name -> (N, C).

    ``gradient_x_activation`` (default, one backward pass): ``s_c * d logit / d s_c``, the first-order
    estimate of the logit lost when gate c closes. ``integrated_gradients``: IG along ``t * s``,
    t in [0, 1], one layer at a time, so a layer's row sums to logit(s) - logit(layer's gates at 0).
    """
    if method not in GATE_METHODS:
        raise ValueError(f"unknown gate attribution method {method!r}; choose one of {GATE_METHODS}")
    if steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps}")
    selected = select_se_layers(model, layers)
    with _eval_mode(model):
        images, t = _prepare(model, images, target)
        if method == "gradient_x_activation":
            gates = [gate_module(se) for se in selected.values()]
            attrs = LayerGradientXActivation(model, gates).attribute(images, target=t)
            if isinstance(attrs, torch.Tensor):  # older Captum returns a bare tensor for a single layer
                attrs = [attrs]
            return {name: a.reshape(a.shape[0], -1).detach().cpu() for name, a in zip(selected, attrs)}

        with torch.no_grad(), record_excitations(model, selected) as rec:
            model(images)
        out = {}
        for name in selected:
            s = rec[name]  # (N, C)

            def logits_with_gates(s_path: torch.Tensor, x: torch.Tensor, name: str = name) -> torch.Tensor:
                with override_gates(model, {name: s_path}):  # Eq. 4 with s replaced by the path point
                    return model(x)

            attr = IntegratedGradients(logits_with_gates).attribute(
                s, baselines=torch.zeros_like(s), target=t, additional_forward_args=(images,), n_steps=steps
            )
            out[name] = attr.detach().cpu()  # (N, C)
        return out
