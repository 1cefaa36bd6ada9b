# Worked solutions of notebook 06 (excitation across classes), put in place of the exercise cells by the runner.

# %% solution="recorder"
from senet_lib.course.checks import check_recorder
from senet_lib.se_layers import find_se_layers, gate_module


def record(model, images):
    """{SE layer name: excitations (N, C)} of one forward pass, recorded with hooks on the gates."""
    found, handles = {}, []

    def keep(name):
        def hook(module, inputs, output):  # output: the excitation s of this forward pass
            found[name] = output.detach().reshape(output.shape[0], -1)  # (N, C)

        return hook

    try:
        for name, se in find_se_layers(model).items():
            handles.append(gate_module(se).register_forward_hook(keep(name)))
        model(images)
    finally:
        for handle in handles:  # never leave a hook behind, even after an error
            handle.remove()
    return found


check_recorder(record)

# %% solution="eta_squared"
from senet_lib.course.checks import check_eta_squared


def eta_squared(s, labels, num_classes):
    """eta^2 of one SE layer: between-class over total sum of squares, both summed over channels."""
    s = s.double()
    grand = s.mean(0)  # (C,)
    between = 0.0
    for k in range(num_classes):
        members = s[labels == k]
        if len(members):
            between += len(members) * ((members.mean(0) - grand) ** 2).sum()  # n_k * |mean_k - grand|^2
    total = ((s - grand) ** 2).sum()  # over images and channels
    return float(between / total)


check_eta_squared(eta_squared)
