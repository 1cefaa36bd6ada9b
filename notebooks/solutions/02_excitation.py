# Worked solutions of notebook 02 (excitation), put in place of the notebook's exercise cells by the runner.

# %% solution="excite"
import torch.nn.functional as F

from senet_lib.course.checks import check_excite


def my_excite(z, w1, w2):
    """Eq. 3 for a batch z (N, C): s = sigmoid(W2 relu(W1 z)), shape (N, C)."""
    hidden = F.relu(F.linear(z, w1))  # (N, C) -> (N, C/r): delta(W1 z), i.e. z @ w1.T
    return torch.sigmoid(F.linear(hidden, w2))  # (N, C/r) -> (N, C): sigma(W2 ...)


check_excite(my_excite)
