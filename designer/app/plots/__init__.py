"""Plots of training runs, drawn with pyqtgraph."""
