"""What the dashboard's pages share (Streamlit UI only; every computation is ``senet_lib``'s).

``state``: choices kept across pages; ``models``: cached checkpoints, twins and evaluations; ``library``: the
images a session works with; ``sidebar``: the model and image pickers, drawn once by the entry script;
``results``: cached per-image results; ``show``: figures, images and predictions on the page; ``tour``: the
guided tour.
"""
