"""The cause of the course's between-cell stalls (issue 12), shown in isolation.

    python experiments/scripts/output_widget_stall.py output-widget 30
    python experiments/scripts/output_widget_stall.py display-handle 30

Executes a four-cell notebook N times under plain ``nbclient.NotebookClient`` (cell timeout 60 s) and prints each
run's slowest cell. ``output-widget`` prints into an ``ipywidgets.Output`` (what the course notebooks did before);
``display-handle`` updates a display id instead (``senet_lib.course.display``, what they do now). Headless runners
mimic an Output widget by talking to the kernel on the shell channel while they wait for the cell's reply on it
(nbclient issue #312): now and then the reply is not read until the cell timeout fires, and the cell then "takes"
exactly the timeout, without an error. With default settings (no timeout) the run waits forever.
"""

from __future__ import annotations

import sys
import time

import nbclient
from nbformat.v4 import new_code_cell, new_notebook

BODIES = {
    "output-widget": (
        "import ipywidgets as widgets\nfrom IPython.display import display\nout = widgets.Output()\n"
        "display(out)\nwith out:\n    for i in range(20):\n        print(i)\n"
    ),
    "display-handle": (
        "from IPython.display import display\nh = display('start', display_id=True)\n"
        "for i in range(20):\n    h.update(str(i))\n"
    ),
}


def slowest_cell(kind: str, timeout: float = 60.0) -> float:
    """Execute the notebook once; the longest time from a cell's request to the client taking its reply."""
    body = BODIES[kind]
    nb = new_notebook(
        cells=[new_code_cell(body), new_code_cell("x = 1"), new_code_cell(body), new_code_cell("x")]
    )
    sent, taken = {}, {}
    client = nbclient.NotebookClient(nb, timeout=timeout)
    client.on_cell_execute = lambda cell, cell_index: sent.__setitem__(cell_index, time.time())
    client.on_cell_executed = lambda cell, cell_index, execute_reply: taken.__setitem__(
        cell_index, time.time()
    )
    client.execute()
    return max(taken[i] - sent[i] for i in taken)


def main() -> None:
    kind, runs = sys.argv[1], int(sys.argv[2])
    if kind not in BODIES:
        raise SystemExit(f"error: choose one of {sorted(BODIES)}, e.g. output-widget 30")
    worst = []
    for n in range(1, runs + 1):
        worst.append(slowest_cell(kind))
        print(f"{kind} run {n:2d}: slowest cell {worst[-1]:6.2f} s", flush=True)
    stalled = sum(w > 10 for w in worst)
    print(f"{kind}: {stalled}/{runs} runs with a cell over 10 s; slowest cell {max(worst):.2f} s")


if __name__ == "__main__":
    main()
