"""The standalone training script (`netdesigner export --train-script OUT.py`): main.py is its
own code, export.py assembles it from that and the modules the engine trains with."""
