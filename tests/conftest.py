"""Shared test setup: Qt runs offscreen; torch computes on one thread.

One thread, because the suite shares 2 cores with whatever else runs: with two, each of torch's
many small parallel regions waits for the other thread, and when another process holds a core
that thread is not running. test_lenet_target on two threads took 190 s beside other busy
processes (OpenMP's default spin-waiting; 27 s waiting passively), on one thread 16 s; on a quiet
machine 11-14 s, 25 s and 15-16 s. The variables are read once, when torch loads OpenMP, so they
are set here, before any test module imports torch; a developer's own values win.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # if a developer asks for more threads
