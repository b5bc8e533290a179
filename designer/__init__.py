"""Network Designer: build convolutional networks visually, train them, look inside, export
PyTorch."""

__version__ = "0.1.0"
