"""Shared test setup: Qt runs offscreen; torch uses few threads on the 2-core CI machine."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")
