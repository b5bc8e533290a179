"""Live previews: every top-level node's output for one pinned sample, as a small thumbnail
(the input image, a mosaic of the first feature maps, bars of a vector, class probabilities
with the predicted label at the head), recomputed incrementally as the design is edited.

Each node's module is built from the design's own layer code (its spec's constructor source,
evaluated in the generated file's namespace, as the compiled model's __init__ does), and its
output from its inputs' outputs with the code generator's forward expression, as
designer.viz.probe computes a node without a module. A block is one node: its output.

Incremental as PerceptiLabs' preview core was: a node's result is cached under a key of its
type, params and input shapes (what builds its module), its weights' version and its inputs'
keys (the input node's key is the sample's). After an edit only the edited node and the nodes
downstream of it get new keys and are computed again; `recomputed` counts them. A node keeps
its module (and so its weights) while what builds it is unchanged, so an edit never
re-initializes the rest of the design, and an edited node keeps the weights that still fit it
(a stride edit keeps a block's convolutions). A node whose output cannot be computed gets the
reason.

Qt-free and thread-safe: one update at a time (a lock), so a background thread may run it.
"""

from __future__ import annotations

import hashlib
import math
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from designer.codegen import CodegenError, GeneratedCode, generate, load_source
from designer.core.analysis import Analysis, analyze
from designer.core.design import Design, Graph
from designer.core.params import freeze
from designer.core.registry import get_spec, has_spec
from designer.interop.weights import WeightsError, design_weights_path, read_tensors
from designer.viz.model import INIT_SEED

MAPS = 4  # feature maps in a mosaic (2 x 2): four readable maps beat sixteen specks
MAP_PX = 32  # each map pooled down to at most this many pixels across
BARS = 32  # values of a vector shown as bars
_HEADER = "import torch\nfrom torch import Tensor, nn\n"


@dataclass(frozen=True)
class Sample:
    """The pinned input: the network input (the design's input shape), the picture shown on the
    input node (H x W x ch in 0..1), the class names, and a key naming it."""

    x: torch.Tensor
    picture: np.ndarray | None
    classes: tuple[str, ...]
    key: str
    label: str | None = None  # its true class, for the head's caption


@dataclass(frozen=True)
class Preview:
    """A node's thumbnail. kind: "image" (the input), "maps", "bars", "classes" or "none".

    pixels: H x W x 3 floats in 0..1 (NaN between the maps of a mosaic); values: the bars in
    -1..1 (a vector scaled by its largest magnitude) or the class probabilities."""

    kind: str
    caption: str
    pixels: np.ndarray | None = None
    values: np.ndarray | None = None
    predicted: int | None = None
    reason: str | None = None  # kind "none": why there is no preview
    blocked: bool = False  # kind "none" because an input has none (the cause is upstream)


@dataclass
class _Built:
    """A node's module: what built it, the module (None: a layer without one) and the version
    of its weights (which file they came from, or a fresh initialization)."""

    build_key: tuple
    module: nn.Module | None
    version: tuple


@dataclass
class _Result:
    key: str
    output: torch.Tensor | None
    preview: Preview


def _digest(value) -> str:
    return hashlib.sha1(repr(value).encode()).hexdigest()


def _graph_fingerprint(graph: Graph, blocks: dict, seen: tuple = ()) -> tuple:
    """A custom block's definition (and the blocks it uses), for its node's build key."""
    nodes = []
    for nid, n in graph.nodes.items():
        inner = ()
        if n.type == "Block":
            name = n.params.get("block")
            if name in blocks and name not in seen:
                inner = _graph_fingerprint(blocks[name], blocks, (*seen, name))
        nodes.append((nid, n.type, freeze(n.params), inner))
    edges = tuple(sorted((e.src, e.dst, e.dst_port) for e in graph.edges))
    return (tuple(nodes), edges)


def _file_version(path: Path) -> tuple:
    stat = path.stat()
    return ("file", str(path), stat.st_mtime_ns, stat.st_size)


class PreviewEngine:
    def __init__(self, seed: int = INIT_SEED) -> None:
        self.seed = seed
        self.recomputed = 0  # node outputs computed (not taken from the cache), ever
        self.weights_note = ""  # where the weights come from, in words
        self.weights_file: Path | None = None  # the file they come from (None: fresh weights)
        self._lock = threading.Lock()
        self._sample: Sample | None = None
        self._weights: Path | None = None  # a file chosen by use_weights (None: the design's)
        self._applied: tuple | None = None  # the version of the file loaded into the modules
        self._built: dict[str, _Built] = {}
        self._results: dict[str, _Result] = {}
        self._fresh: set[str] = set()  # nodes (re)built since weights were last loaded

    # -- what to preview ------------------------------------------------------------------------
    def set_sample(self, sample: Sample | None) -> None:
        with self._lock:
            self._sample = sample

    @property
    def sample(self) -> Sample | None:
        return self._sample

    def use_weights(self, path: str | Path | None) -> None:
        """Take weights from this file (a run's latest, say) from the next update on; None:
        the design's own weights file, or fresh weights when it has none. The file is read
        again whenever it changed (a run writes it every epoch)."""
        path = Path(path) if path is not None else None
        with self._lock:
            if path != self._weights:
                self._built.clear()  # fresh modules first: no tensors of the previous source
                self._applied = None
            self._weights = path

    def module(self, node_id: str) -> nn.Module | None:
        """The module the node's previews are computed with (None: none, or not built)."""
        built = self._built.get(node_id)
        return built.module if built is not None else None

    # -- computing ------------------------------------------------------------------------------
    def update(
        self,
        design: Design,
        design_path: str | Path | None = None,
        check: Callable[[int, int], None] | None = None,
    ) -> dict[str, Preview]:
        """The preview of every top-level node of `design` (a snapshot nobody edits meanwhile);
        `check(done, total)` is called before each node and may raise to cancel."""
        with self._lock:
            return self._update(design, design_path, check)

    def _update(self, design, design_path, check) -> dict[str, Preview]:
        res = analyze(design)
        code, namespace = self._namespace(design, res)
        self._build_modules(design, res, code, namespace)
        self._load_weights(design, design_path, code)
        sample = self._sample
        previews: dict[str, Preview] = {}
        feeds = {(e.dst, e.dst_port): e.src for e in design.edges}
        order = [nid for nid in res.order if nid in design.nodes]
        order += [nid for nid in design.nodes if nid not in order]  # in a cycle: no shape
        for done, nid in enumerate(order):
            if check is not None:
                check(done, len(order))
            previews[nid] = self._node(design, res, nid, feeds, sample)
        for gone in set(self._results) - set(design.nodes):
            del self._results[gone]
        for gone in set(self._built) - set(design.nodes):
            del self._built[gone]
        return previews

    def _node(self, design: Design, res: Analysis, nid: str, feeds, sample) -> Preview:
        node = design.nodes[nid]
        info = res.info.get(nid)
        errors = [p.message for p in res.problems_of(nid) if p.severity == "error"]
        if not has_spec(node.type) or info is None or errors:
            why = errors[0] if errors else "its output shape is unknown (see its inputs)"
            return self._nothing(nid, why)
        spec = get_spec(node.type)
        p = spec.resolve(node.params)
        built = self._built.get(nid)
        if spec.is_input:
            if sample is None:
                return self._nothing(nid, "no sample to preview yet")
            key = _digest(("input", sample.key, info.shape))
            srcs: list[str] = []
        else:
            srcs = [feeds.get((nid, port)) for port in spec.ports(p, design.blocks)]
            for src in srcs:
                known_src = self._results.get(src) if src is not None else None
                if known_src is None or known_src.output is None:
                    name = design.nodes[src].name if src in design.nodes else "an input"
                    why = f"needs the output of {name}, which has no preview"
                    return self._nothing(nid, why, blocked=True)
            if built is None:
                return self._nothing(nid, "its module cannot be built (see the design's problems)")
            key = _digest(
                (built.build_key, built.version, tuple(self._results[s].key for s in srcs))
            )
        known = self._results.get(nid)
        if known is not None and known.key == key:
            return known.preview
        self.recomputed += 1
        try:
            if spec.is_input:
                out = sample.x.reshape(1, *info.shape).float()
            else:
                out = self._forward(spec, p, built.module, info.in_shapes, srcs)
            preview = self._thumbnail(design, spec, out, info.shape, sample)
        except Exception as exc:  # noqa: BLE001 - any layer error: shown on the node
            first = (str(exc) or type(exc).__name__).splitlines()[0]
            self._results[nid] = _Result(key, None, _none(f"cannot be computed: {first}"))
            return self._results[nid].preview
        self._results[nid] = _Result(key, out, preview)
        return preview

    def _nothing(self, nid: str, reason: str, blocked: bool = False) -> Preview:
        """No preview, and no output for the nodes after it (not the last one it had)."""
        self._results.pop(nid, None)
        return _none(reason, blocked)

    def _forward(self, spec, p, module, in_shapes, srcs) -> torch.Tensor:
        args = {f"a{i}": self._results[s].output for i, s in enumerate(srcs)}
        if spec.is_custom_block:
            expr = f"m({', '.join(args)})"
        else:
            expr = spec.emit_forward(p, "m", list(args), in_shapes)
        with torch.inference_mode():
            return eval(expr, {"torch": torch, "m": module}, args)  # the generator's expression

    # -- modules and weights ----------------------------------------------------------------------
    def _namespace(self, design: Design, res: Analysis) -> tuple[GeneratedCode | None, dict]:
        """The generated file's namespace (support classes, custom block classes); while the
        design has problems, just the support classes of the layers it uses."""
        try:
            code = generate(design, res)
        except CodegenError:
            code = None
        if code is not None:
            return code, vars(load_source(code.source, code.class_name))
        chunks: list[str] = []
        for graph in (design, *design.blocks.values()):
            for n in graph.nodes.values():
                if has_spec(n.type):
                    chunks += [c for c in get_spec(n.type).support_classes() if c not in chunks]
        return None, vars(load_source(_HEADER + "\n\n".join(chunks), "preview_support"))

    def _build_modules(self, design, res, code, namespace) -> None:
        meta = None
        for nid, node in design.nodes.items():
            info = res.info.get(nid)
            if not has_spec(node.type) or info is None:
                continue
            spec = get_spec(node.type)
            if spec.is_input:
                continue
            p = spec.resolve(node.params)
            build_key = (node.type, freeze(p), tuple(info.in_shapes))
            if spec.is_custom_block:
                block = design.blocks.get(p.get("block"))
                if block is None:
                    continue
                build_key += (_graph_fingerprint(block, design.blocks),)
            known = self._built.get(nid)
            if known is not None and known.build_key == build_key:
                continue
            seed = (self.seed * 1_000_003 + zlib.crc32(nid.encode())) % 2**31
            if spec.is_custom_block:
                attr = code.module_names.get(nid) if code is not None else None
                if attr is None:
                    self._built.pop(nid, None)  # built again once the design is valid
                    continue
                if meta is None:
                    with torch.device("meta"):
                        meta = namespace["build_model"]()  # only to learn the block's class
                make = type(getattr(meta, attr))
            else:
                source = spec.emit_module(p, info.in_shapes)
                make = None if source is None else (lambda s=source: eval(s, namespace))
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                kept = _keep_weights(make, known.module) if known is not None and make else None
                if kept is not None:  # the weights that still fit stay, as they were
                    version = ("kept", _digest((known.version, build_key)))
                    self._built[nid] = _Built(build_key, kept.eval(), version)
                    self._fresh.add(nid)
                    continue
                torch.manual_seed(seed)  # fresh weights depend on the node, not on the above
                module = make() if make is not None else None
            if module is not None:
                module.eval()
            self._built[nid] = _Built(build_key, module, ("fresh", self.seed))
            self._fresh.add(nid)  # takes the weights file's tensors too, when they fit

    def _load_weights(self, design: Design, design_path, code: GeneratedCode | None) -> None:
        """Each node takes its tensors from the weights file when they fit it (a node edited
        so that they no longer do keeps the weights it has); the file is read again when it
        changed.
        The file names tensors after the compiled model's attributes, so this waits for a
        design without problems."""
        path = self._weights or design_weights_path(design, design_path)
        self.weights_file = path if path is not None and path.is_file() else None
        if path is None:
            self.weights_note, self._applied, self._fresh = "fresh, untrained weights", None, set()
            return
        if not path.is_file():
            self.weights_note = f"fresh weights: the weights file {path} does not exist"
            self._applied, self._fresh = None, set()
            return
        if code is None:
            return
        version = _file_version(path)
        targets = set(self._built) if version != self._applied else self._fresh
        self._fresh = set()
        if not targets:
            return
        try:
            tensors = read_tensors(path)
        except WeightsError as exc:
            self.weights_note = str(exc)
            return
        self._applied = version
        for nid in targets:
            built, attr = self._built.get(nid), code.module_names.get(nid)
            if built is None or built.module is None or attr is None:
                continue
            prefix = attr + "."
            own = built.module.state_dict()
            mine = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            if set(mine) == set(own) and all(mine[k].shape == own[k].shape for k in own):
                built.module.load_state_dict(mine)
                built.version = version
        self.weights_note = f"weights from {path}"

    # -- thumbnails -------------------------------------------------------------------------------
    def _thumbnail(self, design, spec, out: torch.Tensor, shape, sample) -> Preview:
        if spec.is_input and sample is not None and sample.picture is not None:
            pic = np.asarray(sample.picture, dtype=np.float32)
            pic = np.repeat(pic, 3, axis=2) if pic.ndim == 3 and pic.shape[2] == 1 else pic
            caption = sample.label or "sample"
            return Preview("image", caption, pixels=pic)
        value = out.reshape(1, *shape)[0].float() if out.numel() == math.prod(shape) else out[0]
        if spec.role == "output" and design.task == "classification" and value.dim() == 1:
            return _classes(value, sample.classes if sample is not None else ())
        if value.dim() == 3:
            return _mosaic(value)
        if value.dim() == 2:
            return _mosaic(value[None])
        return _bars(value.reshape(-1))


def _keep_weights(make: Callable[[], nn.Module], old: nn.Module | None) -> nn.Module | None:
    """The new module with the old one's tensors where names and shapes still fit (a stride
    edit keeps a block's convolutions; its new shortcut projection is initialized), else
    None. Built on the meta device first: initializing weights that are replaced at once
    costs more than the edited node's forward pass. None too when a part that needs new
    weights has no reset_parameters (its constructor is its only initialization)."""
    if old is None:
        return None
    with torch.device("meta"):
        new = make()
    before = old.state_dict()
    kept = 0
    for prefix, part in new.named_modules():
        own = {**part._parameters, **part._buffers}
        own = {name: t for name, t in own.items() if t is not None}
        if not own:
            continue
        keys = {name: f"{prefix}.{name}" if prefix else name for name in own}
        if all(k in before and before[k].shape == own[n].shape for n, k in keys.items()):
            part.load_state_dict({n: before[k] for n, k in keys.items()}, strict=False, assign=True)
            kept += 1
        elif hasattr(part, "reset_parameters"):
            _materialize(part)
            part.reset_parameters()
        else:
            return None
    tensors = [*new.parameters(), *new.buffers()]
    if (kept == 0 and tensors) or any(t.is_meta for t in tensors):
        return None
    return new


def _materialize(part: nn.Module) -> None:
    """The part's own meta tensors as empty CPU ones, as Module.to_empty(recurse=False) would
    make them; by hand, since to_empty's empty_like of a meta tensor loads torch.fx's
    symbolic shapes on first use (half a second, holding the interpreter)."""
    for name, t in part._parameters.items():
        if t is not None:
            empty = torch.empty(t.shape, dtype=t.dtype)
            part._parameters[name] = nn.Parameter(empty, requires_grad=t.requires_grad)
    for name, t in part._buffers.items():
        if t is not None:
            part._buffers[name] = torch.empty(t.shape, dtype=t.dtype)


def _none(reason: str, blocked: bool = False) -> Preview:
    return Preview("none", "no preview", reason=reason, blocked=blocked)


def _mosaic(maps: torch.Tensor) -> Preview:
    """The first MAPS maps (2 x 2), each pooled to at most MAP_PX across, on one shared scale
    so that weak and dead maps look weak and dead; NaN between the maps."""
    c, h, w = maps.shape
    shown = maps[:MAPS]
    if h > MAP_PX or w > MAP_PX:
        shown = F.adaptive_avg_pool2d(shown[None], (min(h, MAP_PX), min(w, MAP_PX)))[0]
    k, mh, mw = shown.shape
    lo, hi = float(shown.min()), float(shown.max())
    scaled = ((shown - lo) / (hi - lo if hi > lo else 1.0)).numpy()
    cols = 1 if k == 1 else 2
    rows = math.ceil(k / cols)
    pixels = np.full((rows * mh + rows - 1, cols * mw + cols - 1), np.nan, dtype=np.float32)
    for i in range(k):
        r, col = divmod(i, cols)
        pixels[r * (mh + 1) : r * (mh + 1) + mh, col * (mw + 1) : col * (mw + 1) + mw] = scaled[i]
    caption = f"{c} map{'s' if c != 1 else ''} {h}x{w}" if c > 1 else f"{h}x{w}"
    return Preview("maps", caption, pixels=np.repeat(pixels[:, :, None], 3, axis=2))


def _bars(vector: torch.Tensor) -> Preview:
    n = vector.numel()
    shown = vector[:BARS].numpy().astype(np.float32)
    top = float(np.abs(shown).max()) if n else 0.0
    values = shown / top if top > 0 else shown
    caption = f"{n} values" if n <= BARS else f"first {BARS} of {n}"
    return Preview("bars", caption, values=values)


def _classes(scores: torch.Tensor, classes: tuple[str, ...]) -> Preview:
    probs = torch.softmax(scores.double(), dim=0).float().numpy()
    best = int(probs.argmax())
    name = classes[best] if len(classes) == len(probs) else f"#{best}"
    return Preview("classes", f"{name} · {probs[best]:.0%}", values=probs, predicted=best)
