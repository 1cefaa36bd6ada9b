"""SENet Lab: Squeeze-and-Excitation networks to learn, train and inspect.

Hu, Shen, Albanie, Sun, Wu, "Squeeze-and-Excitation Networks", CVPR 2018 / TPAMI 2019.
"""

from senet_lib.se import SEBlock, excite, hidden_width, scale, squeeze
from senet_lib.shipped import list_pretrained, preprocess, pretrained

__version__ = "0.1.0"

__all__ = [
    "SEBlock",
    "__version__",
    "excite",
    "hidden_width",
    "list_pretrained",
    "preprocess",
    "pretrained",
    "scale",
    "squeeze",
]
