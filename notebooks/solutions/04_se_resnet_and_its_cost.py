# Worked solutions of notebook 04 (cost), put in place of the notebook's exercise cells by the runner.

# %% solution="se_parameters"
from senet_lib.course.checks import check_se_parameters


def my_se_parameters(C, r):
    """Weights of one SE block of width C and reduction r (no biases)."""
    w1 = (C / r) * C  # W1: C -> C/r
    w2 = C * (C / r)  # W2: C/r -> C
    return w1 + w2  # = 2 C^2 / r


check_se_parameters(my_se_parameters)
