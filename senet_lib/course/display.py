"""Interactive figures in the notebooks without ``ipywidgets.Output``: controls, and outputs redrawn in place.

Why not ``Output``: headless runners (nbclient, ``jupyter nbconvert --execute``, hence CI) mimic an Output widget
by sending a ``comm_msg`` on the shell channel for every output captured in it. That send can swallow the wake-up of
the ``execute_reply`` arriving on the same socket, and the runner then waits for its per-cell timeout before it
notices the reply (forever with nbclient's default timeout=None): nbclient issue #312. Outputs shown with a display
id and replaced with ``update_display_data`` need no message from the runner to the kernel, in Jupyter or headless.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["LiveOutput", "redraw_on_change"]


def _bundle(item: Any) -> tuple[Any, bool]:
    """(what to display, raw?): plotly figures as their mime bundle (their own ``_ipython_display_`` would ignore
    the display id), strings as plain text, anything else as it is."""
    if isinstance(item, str):
        return {"text/plain": item}, True
    if hasattr(item, "to_plotly_json") and hasattr(item, "_repr_mimebundle_"):
        return item._repr_mimebundle_(), True
    return item, False


def _as_outputs(result: Any) -> list[tuple[Any, bool]]:
    return [_bundle(item) for item in (result if isinstance(result, tuple) else (result,))]


def redraw_on_change(draw: Callable[..., Any], **controls: Any) -> Callable[[], None]:
    """Show the ``controls`` (ipywidgets) in a row and below them what ``draw(**values)`` returns, redrawn on change.

    ``draw`` returns one output or a tuple of them: plotly figures, strings (shown as plain text), anything
    ``IPython.display`` shows; the same number every time. Returns the redraw function (call it to redraw).
    """
    import ipywidgets as widgets
    from IPython.display import display

    if not controls:
        raise ValueError("give at least one control, e.g. redraw_on_change(draw, r=widgets.IntSlider(...))")

    def current() -> list[tuple[Any, bool]]:
        return _as_outputs(draw(**{name: w.value for name, w in controls.items()}))

    display(widgets.HBox(list(controls.values())))
    handles = [display(item, raw=raw, display_id=True) for item, raw in current()]

    def redraw(_change: Any = None) -> None:
        items = current()
        if len(items) != len(handles):
            raise ValueError(
                f"draw returned {len(items)} outputs, first {len(handles)}; return the same number"
            )
        for handle, (item, raw) in zip(handles, items):
            handle.update(item, raw=raw)

    for w in controls.values():
        w.observe(redraw, names="value")
    return redraw


class LiveOutput:
    """One output replaced in place as a cell runs (``update_display_data``), e.g. training curves every epoch."""

    def __init__(self, initial: Any = "waiting for the first result ...") -> None:
        from IPython.display import display

        item, raw = _bundle(initial)
        self.handle = display(item, raw=raw, display_id=True)

    def update(self, item: Any) -> None:
        """Replace the output with ``item`` (a plotly figure, a string, anything IPython displays)."""
        item, raw = _bundle(item)
        self.handle.update(item, raw=raw)
