"""The guided tour for first-time users: one step per page, each saying what to try and what to notice, with a
button to the next page. Offered on the Overview; its step is kept in ``st.session_state["tour"]``."""

from __future__ import annotations

import streamlit as st

#: (page file, what to try and notice there), in the order of the tour.
STEPS = [
    (
        "views/overview.py",
        "Pick a sample in the sidebar (or upload a photo). Left: the file as it is; middle: the 32x32 picture "
        "the model gets; right: its top-5 classes. Open *every step* to see what happened on the way in.",
    ),
    (
        "views/excitations.py",
        "The heatmap holds every gate s (Eq. 3) the image produced: one row per SE block, one cell per channel. "
        "Below, one layer's gates against each class's average, and what class a probe reads from the gates.",
    ),
    (
        "views/across_classes.py",
        "The paper's Fig. 6: class-mean gates of a layer. Switch between an early layer (SE_2_1) and a late one "
        "(SE_4_2): early rows look alike for every class, late ones differ. η² and the probe measure it.",
    ),
    (
        "views/attribution.py",
        "Which pixels and which gates the prediction rests on. Give an upload its true class in the sidebar to "
        "see the predicted and the true class side by side.",
    ),
    (
        "views/intervene.py",
        "Switch off the three gates the prediction leans on most (chosen for you) and watch the probabilities "
        "move; the difference map shows how the later layers respond.",
    ),
    (
        "views/mistakes.py",
        "Where the model is wrong over all its validation images, SE beside plain, and the samples it gets "
        "wrong with their gates.",
    ),
]


def offer() -> None:
    """On the Overview: a button to start the tour (or to end one in progress)."""
    if st.session_state.get("tour") is None:
        if st.button("New here? Take the guided tour (6 steps)", icon=":material/tour:", key="tour-start"):
            st.session_state["tour"] = 0
            st.rerun()


def box(page_file: str) -> None:
    """At the top of the page the tour is on: the step's text, "Next" (to the next page) and "End the tour"."""
    step = st.session_state.get("tour")
    if step is None or step >= len(STEPS) or STEPS[step][0] != page_file:
        return
    with st.container(border=True):
        st.markdown(f"**Guided tour, step {step + 1} of {len(STEPS)}.** {STEPS[step][1]}")
        left, right = st.columns(2)
        last = step + 1 == len(STEPS)
        if left.button("Finish" if last else "Next step", key="tour-next", type="primary"):
            st.session_state["tour"] = None if last else step + 1
            if not last:
                st.switch_page(STEPS[step + 1][0])
            st.rerun()
        if not last and right.button("End the tour", key="tour-end"):
            st.session_state["tour"] = None
            st.rerun()
