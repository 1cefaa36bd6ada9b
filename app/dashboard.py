"""SENet Lab dashboard: `streamlit run app/dashboard.py` (or `make app`).

The entry script: it draws the sidebar (model and images) once per run, so every page shares one choice, then
runs the page picked in the navigation (`st.navigation`; the pages are the files in views/). The pages and
the helpers in ui/ are UI only: every computation is senet_lib's.
"""

import streamlit as st
from ui import models, sidebar, state, tour

#: (file, title, icon) of each page, in the navigation's order; the first is the default.
PAGES = [
    ("views/overview.py", "Overview", ":material/home:"),
    ("views/excitations.py", "Excitations", ":material/bar_chart:"),
    ("views/two_images.py", "Two images", ":material/compare:"),
    ("views/across_classes.py", "Across classes", ":material/grid_on:"),
    ("views/mistakes.py", "Where it is wrong", ":material/error_outline:"),
    ("views/attribution.py", "Attribution", ":material/center_focus_strong:"),
    ("views/intervene.py", "Intervene", ":material/tune:"),
    ("views/compare.py", "Compare models", ":material/view_column:"),
]

st.set_page_config(page_title="SENet Lab", page_icon=":material/bubble_chart:", layout="wide")
models.configure_torch()
state.keep_page_choices()
pages = [st.Page(file, title=title, icon=icon, default=i == 0) for i, (file, title, icon) in enumerate(PAGES)]
current = st.navigation(pages)
sidebar.draw()
state.show_messages()
tour.box(next(file for (file, _, _), p in zip(PAGES, pages) if p.url_path == current.url_path))
current.run()
