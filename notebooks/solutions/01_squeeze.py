# Worked solutions of notebook 01 (squeeze). The runner (`python -m senet_lib course`) puts each cell below in
# place of the notebook's exercise cell with the same id; CI executes the notebooks that way.

# %% solution="squeeze"
from senet_lib.course.checks import check_squeeze


def my_squeeze(u):
    """Eq. 2 for a batch: (N, C, H, W) -> (N, C)."""
    n, c, h, w = u.shape
    return u.reshape(n, c, h * w).sum(dim=2) / (h * w)  # (N, C, H*W) -> (N, C): sum, then divide by H x W


check_squeeze(my_squeeze)
