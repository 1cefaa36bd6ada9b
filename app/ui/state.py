"""Choices that outlive a page: a page's widgets are keyed ``keep.<page>.<what>`` and the entry script re-claims
those keys on every run (Streamlit forgets the state of widgets that a run does not draw).

A kept widget takes its value from ``st.session_state`` only: :func:`choose` sets a valid initial value
before the widget is drawn, so a value that no longer fits (another model's layers, an image taken away)
falls back to the page's default instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

PREFIX = "keep."


def keep_page_choices() -> None:
    """Re-claim every ``keep.*`` widget value, so leaving a page does not reset its choices."""
    for key in list(st.session_state):
        if isinstance(key, str) and key.startswith(PREFIX):
            st.session_state[key] = st.session_state[key]


def choose(key: str, options: Sequence, default: Any | Callable[[], Any]) -> str:
    """Make ``st.session_state[key]`` one of ``options`` (or, for a list value, a subset of them) before the
    widget keyed ``key`` is drawn; ``default`` (or ``default()``) when it is unset or no longer fits."""
    value = st.session_state.get(key)
    if isinstance(value, list):
        fits = all(v in options for v in value)
    else:
        fits = value is not None and value in options
    if not fits:
        st.session_state[key] = default() if callable(default) else default
    return key


def say_once(kind: str, text: str) -> None:
    """Queue a message (``error``, ``warning``, ``success``, ``info``) for the top of the next page drawn."""
    st.session_state.setdefault("messages", []).append((kind, text))


def show_messages() -> None:
    """The queued messages, each once: drawn by this run, then forgotten."""
    for kind, text in st.session_state.pop("messages", []):
        getattr(st, kind)(text, icon=":material/error:" if kind == "error" else None)
