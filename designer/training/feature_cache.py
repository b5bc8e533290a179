"""Cached features (seed 000's "cache the features to disk"): when everything before some node
is frozen and the training data is not augmented, that frozen part gives the same output for a
sample every epoch. Its outputs are computed once per sample and stored in the run directory
(RUN/feature_cache/KEY.safetensors), and training runs only the rest of the network on them.

Valid only for a clean cut: a single tensor, the output of one node, crosses from the frozen part
to the rest (the node dominates the head: every path from the input to the head passes through
it), and the node and everything before it behave the same in every epoch: frozen nodes are kept
in eval mode (BatchNorm uses its running statistics, dropout is off), and the other nodes there
have no parameters, no statistics and nothing random (ReLU, pooling, Flatten, Add).

Exact: cached training computes the same numbers as uncached training. The rest is compiled from
the design's own generated code and shares the full model's modules, so the optimizer, the
checkpoints and the weights files see one model. The batches are drawn as before, only as sample
indices (torch.arange through designer.data.iterate_batches: the same order from the same data
generator). A CPU kernel's result for a sample may depend on the size of its batch (on one thread
count), never on the other samples in it; so the training features are computed in batches of the
training batch size, the epoch's one shorter batch is run through the frozen part as it comes, and
the validation features in the evaluation's own batches (metrics.EVAL_BATCH, in order).

The file's name is a hash of everything the numbers depend on: the frozen part's code and weights,
the node, the data's tensors, the batch sizes, the device, the thread count and torch's version;
a run resumed on the same data reuses it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import torch
from torch import nn

from designer.codegen import CodegenError, GeneratedCode, compile_design, generate
from designer.core.analysis import analyze
from designer.core.design import Design, Edge
from designer.core.serialization import clone
from designer.core.transfer import TransferError, cut_at
from designer.training.metrics import EVAL_BATCH

CACHE_DIR = "feature_cache"  # inside the run directory
FORMAT = 1
RANDOM_IN_TRAINING = (nn.modules.dropout._DropoutNd, nn.RReLU)


@dataclass(frozen=True)
class Cut:
    """Where the frozen part ends: the node whose output is cached, and that part's nodes."""

    node_id: str
    name: str
    shape: tuple[int, ...]
    frozen_ids: frozenset[str]  # the node and every node before it, the input included


def _module(model: nn.Module, code: GeneratedCode, nid: str) -> nn.Module | None:
    attr = code.module_names.get(nid)
    module = getattr(model, attr, None) if attr is not None else None
    return module if isinstance(module, nn.Module) else None


def _steady(design: Design, model: nn.Module, code: GeneratedCode, nid: str) -> bool:
    """Whether the node computes the same thing in every training step: frozen (eval mode), or
    a module with nothing learned, no statistics and nothing random, or no module at all (the
    generated code's Flatten, Add, Concat... expressions)."""
    module = _module(model, code, nid)
    if module is None or not design.nodes[nid].trainable:
        return True
    if _learns(module) or any(True for _ in module.buffers()):
        return False
    return not any(isinstance(m, RANDOM_IN_TRAINING) for m in module.modules())


def find_cut(design: Design, model: nn.Module, code: GeneratedCode) -> Cut | str | None:
    """The latest clean cut with a frozen part before it; a reason (str) when frozen nodes exist
    but no cut is clean; None when nothing is frozen."""
    frozen = [nid for nid, n in design.nodes.items() if not n.trainable]
    if not frozen:
        return None
    res = analyze(design)
    graph = design.nx_graph()
    dominators = nx.immediate_dominators(graph, res.input_id)
    chain, nid = [], dominators.get(res.output_id)
    while nid is not None and nid != res.input_id:  # from the head back to the input
        chain.append(nid)
        nid = dominators.get(nid)
    for nid in chain:
        before = nx.ancestors(graph, nid) | {nid}
        if all(_steady(design, model, code, b) for b in before if b != res.input_id):
            if any(b in frozen and _learns(_module(model, code, b)) for b in before):
                return Cut(
                    nid, design.nodes[nid].name, tuple(res.info[nid].shape), frozenset(before)
                )
            break  # the earlier candidates have even less before them
    names = ", ".join(design.nodes[f].name for f in frozen[:3]) + (
        ", ..." if len(frozen) > 3 else ""
    )
    return (
        f"no single layer separates the frozen layers ({names}) from the trained ones: a "
        f"trained layer comes before them, or a connection goes around them"
    )


def _learns(module: nn.Module | None) -> bool:
    return module is not None and any(True for _ in module.parameters())


def _parts(design: Design, cut: Cut) -> tuple[Design, Design]:
    """(frozen part, rest) as designs: the frozen part outputs the cut node's output (flattened,
    as transfer.cut_at makes a feature extractor); the rest's input is that output."""
    frozen = clone(design)
    cut_at(frozen, cut.node_id)
    rest = clone(design)
    input_id = analyze(design).input_id
    feeds = [
        Edge(input_id, e.dst, e.dst_port)
        for e in rest.edges
        if e.src == cut.node_id and e.dst not in cut.frozen_ids
    ]
    for e in [e for e in rest.edges if e.src in cut.frozen_ids]:
        rest.remove_edge(e)
    for nid in cut.frozen_ids - {input_id}:
        rest.remove_node(nid)
    for e in feeds:
        rest.add_edge(e)
    rest.set_setting("input_shape", cut.shape)
    return frozen, rest


def _sharing(part: Design, model: nn.Module, code: GeneratedCode) -> tuple[nn.Module, str]:
    """The part compiled with the full model's modules in place of its own (so training the rest
    trains the model); its own fresh ones are built without touching the global RNG (dropout)."""
    part_code = generate(part)
    with torch.random.fork_rng(devices=[]):
        module = compile_design(part, part_code)
    for nid, attr in part_code.module_names.items():
        setattr(module, attr, getattr(model, code.module_names[nid]))
    own = {id(t) for t in (*model.parameters(), *model.buffers())}
    if any(id(t) not in own for t in (*module.parameters(), *module.buffers())):
        raise CodegenError("the part has tensors of its own")
    return module, part_code.source


class FeatureCache:
    """The frozen part's outputs for the training and validation samples, and the rest to train."""

    def __init__(
        self,
        cut: Cut,
        frozen: nn.Module,
        rest: nn.Module,
        train_x: torch.Tensor,
        batch_size: int,
        device: torch.device,
    ) -> None:
        self.cut, self.frozen, self.rest = cut, frozen, rest
        self.raw, self.device = train_x, device
        self.batch_size = min(batch_size, len(train_x))
        self.index = torch.arange(len(train_x))  # what iterate_batches shuffles and slices
        self.train = self.val = torch.empty(0)
        self.file: Path | None = None
        self.reused = False

    def inputs(self, index: torch.Tensor) -> torch.Tensor:
        """The rest's inputs for the samples ``index`` (a batch from iterate_batches over
        self.index): cached for a full batch, computed now for a shorter one."""
        if len(index) == self.batch_size:
            return self.train[index]
        with torch.no_grad():
            return self._run(self.raw[index])

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        return self.frozen(x.to(self.device)).reshape(len(x), *self.cut.shape)

    def _compute(self, x: torch.Tensor, batch: int, last_full: bool) -> torch.Tensor:
        """Outputs in batches of ``batch`` samples, in order; with last_full the last batch is
        the last ``batch`` samples (overlapping), so every sample's batch has that size."""
        out = torch.empty(len(x), *self.cut.shape)
        self.frozen.eval()
        with torch.no_grad():
            for lo in range(0, len(x), batch):
                hi = min(lo + batch, len(x))
                lo = max(0, hi - batch) if last_full else lo
                out[lo:hi] = self._run(x[lo:hi]).cpu()
        return out

    def fill(self, val_x: torch.Tensor, folder: Path, key: str) -> None:
        """Read the features from ``folder``/KEY.safetensors, or compute and store them there
        (an unwritable folder only means they are not kept)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file, save_file

        from designer.core.atomic import atomic_path

        path = folder / f"{key}.safetensors"
        shape = self.cut.shape
        try:
            tensors = load_file(str(path)) if path.is_file() else {}
        except (OSError, SafetensorError):
            tensors = {}
        if tensors.get("train", torch.empty(0)).shape == (len(self.raw), *shape) and tensors.get(
            "val", torch.empty(0)
        ).shape == (len(val_x), *shape):
            self.train, self.val, self.file, self.reused = (
                tensors["train"],
                tensors["val"],
                path,
                True,
            )
            return
        self.train = self._compute(self.raw, self.batch_size, last_full=True)
        self.val = self._compute(val_x, EVAL_BATCH, last_full=False)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.safetensors"):
                old.unlink()
            with atomic_path(path) as tmp:
                save_file(
                    {"train": self.train, "val": self.val},
                    str(tmp),
                    metadata={"node": self.cut.name, "key": key},
                )
            self.file = path
        except OSError:
            self.file = None


def _digest(h, tensor: torch.Tensor) -> None:
    t = tensor.detach().cpu().contiguous()
    h.update(f"{t.dtype}{tuple(t.shape)}".encode())
    if t.numel():
        h.update(t.reshape(-1).view(torch.uint8).numpy())


def cache_key(
    frozen_source: str,
    frozen: nn.Module,
    cut: Cut,
    data_tensors,
    batch_size: int,
    device: torch.device,
) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(
        json.dumps(
            {
                "format": FORMAT,
                "torch": torch.__version__,
                "device": str(device),
                "threads": torch.get_num_threads(),
                "batch": batch_size,
                "eval_batch": EVAL_BATCH,
                "node": cut.node_id,
                "shape": cut.shape,
                "code": frozen_source,
            }
        ).encode()
    )
    for name, tensor in frozen.state_dict().items():
        h.update(name.encode())
        _digest(h, tensor)
    for tensor in data_tensors:
        _digest(h, tensor)
    return h.hexdigest()


def build(
    design: Design,
    model: nn.Module,
    code: GeneratedCode,
    cut: Cut,
    data,
    batch_size: int,
    device: torch.device,
    run_dir: Path,
) -> FeatureCache | str:
    """The cache for a run (filled: read from the run directory or computed), or the reason the
    network cannot be split at the cut."""
    try:
        frozen_design, rest_design = _parts(design, cut)
        if analyze(rest_design).problems:
            return f"the layers after {cut.name} do not form a network of their own"
        frozen, frozen_source = _sharing(frozen_design, model, code)
        rest, _ = _sharing(rest_design, model, code)
    except (TransferError, CodegenError):
        return f"the network cannot be split at {cut.name}"
    cache = FeatureCache(cut, frozen, rest, data.train_x, batch_size, device)
    key = cache_key(
        frozen_source, frozen, cut, (data.train_x, data.val_x), cache.batch_size, device
    )
    cache.fill(data.val_x, run_dir / CACHE_DIR, key)
    return cache


def start(
    design: Design,
    model: nn.Module,
    code: GeneratedCode,
    data,
    batch_size: int,
    device: torch.device,
    run_dir: Path,
    augmented: bool,
) -> tuple[FeatureCache | None, str]:
    """A run's cache, or None; and what to tell the user ("" when nothing is frozen)."""
    cut = find_cut(design, model, code)
    if cut is None:
        return None, ""
    if isinstance(cut, str) or augmented:
        return None, (
            "features are not cached: "
            + ("augmentation changes the inputs every epoch" if augmented else cut)
        )
    tick = time.perf_counter()
    cache = build(design, model, code, cut, data, batch_size, device, run_dir)
    if isinstance(cache, str):
        return None, f"features are not cached: {cache}"
    if cache.reused:
        how = f"read from {cache.file}"
    else:
        how = f"computed in {time.perf_counter() - tick:.1f}s and " + (
            f"stored in {cache.file}"
            if cache.file
            else "kept in memory (the run directory is not writable)"
        )
    return cache, (
        f"training on cached features: everything up to {cut.name} is frozen, so its "
        f"outputs ({'x'.join(map(str, cut.shape))} per sample) are {how}; only the "
        f"layers after it run each epoch"
    )
