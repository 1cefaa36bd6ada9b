"""Analysis of trained networks: record and override excitations, class profiles and specificity (eta^2),
attribution (Captum), one image through a model (inspection), torchvision's SE networks, plotly figures.

May import the core (``se``, ``se_layers``, ``models``, ``checkpoint``, ``runtime``, ``paths``) and ``data``;
never ``training``, ``course`` or ``cli``. Never imports streamlit or ipywidgets: the app and the notebooks
display what these functions return.
"""
