"""``python -m senet_lib.train ...`` (and ``torchrun ... -m senet_lib.train``): the same as ``senet train ...``.

The training loop itself is :func:`senet_lib.training.train`; its arguments live in :mod:`senet_lib.cli.training`.
"""

import sys

from senet_lib.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["train", *sys.argv[1:]], prog="python -m senet_lib.train"))
