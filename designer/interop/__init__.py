"""Weights files, torchvision weight mapping, pretrained weights and model exports."""
