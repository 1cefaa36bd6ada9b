"""``python -m senet_lib COMMAND ...``: see :mod:`senet_lib.cli`."""

from senet_lib.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
