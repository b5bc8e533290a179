"""How many CPU threads each process of the project uses, and how its OpenMP threads wait.

PyTorch's OpenMP threads spin-wait for the next parallel region (libgomp's default). Two torch
processes spinning on the same cores steal each other's time: on a 2-core machine LeNet-5 on
digits trained in 12.6 s alone but 116 s beside a process doing bursts of torch work; 18.7 s
when the trainer's threads wait passively (sleep instead of spin), 16.4 s with one thread.

The rule, one role per process:
  "ui"       the app's own process (previews, visualizations beside a training worker):
             one thread, passive waiting;
  "compute"  a trainer (CLI train, the app's training worker) and the other CLI verbs:
             every core (torch's default thread count), passive waiting, so it degrades
             gracefully beside a busy neighbour instead of collapsing.
A user's own OMP_NUM_THREADS or OMP_WAIT_POLICY always wins.

OpenMP reads these variables once, when torch loads it, so apply() must run before torch is
imported in the process. Child processes inherit the environment: child_environment() gives a
spawned worker its own role while the parent starts it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, MutableMapping

VARIABLES = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")
ROLES: dict[str, dict[str, str]] = {
    "ui": {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"},
    "compute": {"OMP_WAIT_POLICY": "PASSIVE"},
}
# The variables apply() set (rather than the user), so a child with another role may change them.
OURS = "NETDESIGNER_THREAD_VARS"


def apply(role: str, environ: MutableMapping[str, str] | None = None) -> None:
    """Set the role's variables in ``environ`` (default: this process's environment), leaving
    alone the ones the user set; variables set by this function for another role (inherited
    from a parent process) are replaced or removed."""
    if role not in ROLES:
        raise ValueError(f"unknown thread role {role!r}; roles: {', '.join(ROLES)}")
    env = os.environ if environ is None else environ
    ours = {name for name in env.get(OURS, "").split(",") if name in VARIABLES}
    for name in ours:
        env.pop(name, None)
    ours.clear()
    for name, value in ROLES[role].items():
        if name not in env:
            env[name] = value
            ours.add(name)
    if ours:
        env[OURS] = ",".join(sorted(ours))
    else:
        env.pop(OURS, None)


def apply_at_start(role: str) -> bool:
    """apply(role) to this process if torch is not loaded yet (else the settings could no longer
    take effect, and the environment is left as it is). Returns whether it applied."""
    if "torch" in sys.modules:
        return False
    apply(role)
    return True


@contextlib.contextmanager
def child_environment(role: str, extra: dict[str, str] | None = None) -> Iterator[None]:
    """While inside, this process's environment is the one a child of ``role`` should start
    with (start the child inside), with ``extra`` variables too; afterwards it is restored."""
    extra = extra or {}
    names = (*VARIABLES, OURS, *extra)
    saved = {name: os.environ.get(name) for name in names}
    apply(role)
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# Per sample: below this, one intra-op thread trains faster than two on this kind of machine, and
# it also stays fast beside a busy neighbour. Measured on 2 cores (samples/s, 1 thread vs 2
# passive):
# LeNet-5 (0.42M MACs) 6,609 vs 3,789; the CIFAR-10 CNN (39.7M MACs) 341 vs 537.
SMALL_MODEL_MACS = 5_000_000


def fit_to_model(macs_per_sample: int) -> int | None:
    """In a "compute" process, once the model is known: one intra-op thread for a small model
    (thread start-up and wake-ups cost more than they save), torch's default for a larger one.
    A user's own OMP_NUM_THREADS wins (returns None); else returns the thread count set."""
    import torch

    global _WHY
    ours = set(os.environ.get(OURS, "").split(","))
    if "OMP_NUM_THREADS" in os.environ and "OMP_NUM_THREADS" not in ours:
        _WHY = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, yours"
        return None
    default = _default_threads()  # read before any change, so a later larger model gets it back
    small = macs_per_sample < SMALL_MODEL_MACS
    count = 1 if small else default
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    _WHY = (
        f"one for a small model, {macs_per_sample / 1e6:.1f}M MACs per sample"
        if small
        else "torch's default for this model"
    )
    return count


def _default_threads() -> int:
    """torch's own default: one thread per physical core (os.cpu_count() as an upper bound)."""
    import torch

    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = torch.get_num_threads()
    return _DEFAULT


_DEFAULT: int | None = None
_WHY = ""  # why this process has its thread count, for describe()


def describe() -> str:
    """This process's CPU threads and OpenMP wait policy, for a log line (imports torch)."""
    import torch

    policy = os.environ.get("OMP_WAIT_POLICY", "default (spinning)")
    why = f" ({_WHY})" if _WHY else ""
    return f"{torch.get_num_threads()} CPU thread(s){why}, OpenMP wait policy {policy}"
