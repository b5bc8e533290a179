"""Plots drawn with pyqtgraph: training curves, the architecture comparison; shared by the app
and the CLI verbs that draw headless."""

# The one palette of every chart (Tableau 10): neighbouring runs and networks stay distinguishable
# on white; more than ten cycle through.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
