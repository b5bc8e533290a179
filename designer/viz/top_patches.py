"""Top-k activating patches: for each channel of a node, the k images whose strongest unit in
that channel is the strongest over the dataset, and the patch of each image that unit sees.

One pass over the data: the node's output for a batch is reduced to its spatial maximum per
(image, channel), and a running top-k per channel is updated with one torch.topk over the
concatenation of the current top-k and the batch's candidates; no Python loop over channels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from designer.viz.errors import VizError
from designer.viz.model import LoadedModel
from designer.viz.probe import NodeProbe
from designer.viz.receptive_field import ReceptiveField, field_at, field_size


class RunningTopK:
    """Per channel, the k largest spatial maxima seen so far: value, image index, position."""

    def __init__(self, k: int) -> None:
        if k < 1:
            raise VizError(f"k must be at least 1, got {k}")
        self.k = k
        self.values: torch.Tensor | None = None  # C x k' (k' <= k until k images are seen)
        self.images: torch.Tensor | None = None  # C x k', index into the dataset
        self.positions: torch.Tensor | None = None  # C x k', flat index into H x W
        self.seen = 0

    def update(self, out: torch.Tensor) -> None:
        """Add a batch of one node's outputs (N x C x H x W, or N x C for flat outputs)."""
        n, c = out.shape[:2]
        best, where = out.reshape(n, c, -1).max(dim=2)  # N x C
        images = torch.arange(self.seen, self.seen + n).expand(c, n)
        self.seen += n
        cand_v, cand_i, cand_p = best.T, images, where.T  # C x N each
        if self.values is not None:
            cand_v = torch.cat([self.values, cand_v], dim=1)
            cand_i = torch.cat([self.images, cand_i], dim=1)
            cand_p = torch.cat([self.positions, cand_p], dim=1)
        top, pick = torch.topk(cand_v, min(self.k, cand_v.shape[1]), dim=1)
        self.values = top
        self.images = cand_i.gather(1, pick)
        self.positions = cand_p.gather(1, pick)


@dataclass
class TopPatches:
    """The winners of the selected channels, ready to show (arrays for the editor's panel)."""

    node_name: str
    channels: np.ndarray  # C' channel indices shown
    values: np.ndarray  # C' x k spatial maxima, best first (-inf where fewer than k images)
    image_index: np.ndarray  # C' x k dataset index (-1 where missing)
    position: np.ndarray  # C' x k x 2 (row, col) of the winning unit in the node's output
    boxes: np.ndarray  # C' x k x 4 (top, left, bottom, right) in input pixels, not clipped
    patches: np.ndarray  # C' x k x H x W x ch in display units, NaN outside the image
    whole_image: bool  # the node's units see the whole input (after Flatten etc.)
    field: tuple[int, int] | None = None  # the true receptive field (h, w); None: whole image
    clipped: bool = False  # the field is larger than the image: patches are cut to the image

    @property
    def field_text(self) -> str:
        """The patches' size in words, with the true field when it was cut to the image."""
        if self.whole_image or self.field is None:
            return "whole image"
        h, w = self.field
        if self.clipped:
            ph, pw = self.patches.shape[2:4]
            return f"receptive field {h}x{w}, clipped to the {ph}x{pw} image"
        return f"receptive field {h}x{w}"


def collect_top_k(
    probe: NodeProbe,
    inputs: torch.Tensor,
    k: int,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> RunningTopK:
    """One pass over `inputs` (N x input shape) through the model up to the probed node;
    `progress(done, total)` after each batch (it may raise to stop the pass)."""
    top = RunningTopK(k)
    for start in range(0, len(inputs), batch_size):
        top.update(probe(inputs[start : start + batch_size]))
        if progress is not None:
            progress(min(start + batch_size, len(inputs)), len(inputs))
    return top


def clip_to_image(box: tuple[int, int, int, int], image_hw: tuple[int, int]):
    """A field larger than the image along an axis is cut to the image along that axis (a deep
    layer's 211-pixel field on a 32-pixel image would be mostly padding); a smaller field keeps
    its padding, so a patch at the border still shows where its unit is."""
    top, left, bottom, right = box
    h, w = image_hw
    if bottom - top > h:
        top, bottom = 0, h
    if right - left > w:
        left, right = 0, w
    return top, left, bottom, right


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The box of an H x W x ch image; parts outside the image are NaN (the padding)."""
    top, left, bottom, right = box
    h, w = image.shape[:2]
    out = np.full((bottom - top, right - left, image.shape[2]), np.nan, dtype=np.float32)
    t, lft, b, r = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
    if t < b and lft < r:
        out[t - top : b - top, lft - left : r - left] = image[t:b, lft:r]
    return out


def top_patches(
    model: LoadedModel,
    node_id: str,
    inputs: torch.Tensor,
    display_images: torch.Tensor,
    k: int = 9,
    channels: list[int] | None = None,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> TopPatches:
    """Top-k patches of a node's channels over a dataset.

    inputs: what the network takes (N x input shape). display_images: the same N images as
    N x ch x H x W in 0..1 for showing (the input before normalization); patches are cut from
    them, so for an image input they must have the input's height and width. `node_id` is a
    node key (designer.viz.nodes: inside blocks too); `progress` as for collect_top_k.
    """
    if len(inputs) != len(display_images):
        raise VizError(f"there are {len(inputs)} inputs but {len(display_images)} display images")
    if len(inputs) == 0:
        raise VizError("the data split has no images")
    probe = NodeProbe(model, node_id)
    name = probe.place.label
    shape = probe.shape
    num_channels = shape[0]
    chosen = list(range(num_channels)) if channels is None else list(channels)
    bad = [c for c in chosen if not 0 <= c < num_channels]
    if bad:
        raise VizError(
            f"node '{name}' has {num_channels} channels (0..{num_channels - 1}); "
            f"there is no channel {bad[0]}"
        )
    top = collect_top_k(probe, inputs, k, batch_size, progress)
    field = field_at(model.design, model.analysis, probe.place)
    if len(model.design.input_shape) != 3:
        field = ReceptiveField.whole_input()
    image_hw = tuple(display_images.shape[2:])
    if not field.whole and image_hw != tuple(model.design.input_shape[1:]):
        raise VizError(
            f"display images are {image_hw[0]} x {image_hw[1]} but the design's input "
            f"is {model.design.input_shape[1]} x {model.design.input_shape[2]}"
        )

    found = top.values.shape[1]
    idx = torch.tensor(chosen, dtype=torch.long)
    values = np.full((len(chosen), k), -np.inf, dtype=np.float32)
    image_index = np.full((len(chosen), k), -1, dtype=np.int64)
    position = np.zeros((len(chosen), k, 2), dtype=np.int64)
    values[:, :found] = top.values[idx].float().numpy()
    image_index[:, :found] = top.images[idx].numpy()
    width = shape[2] if len(shape) == 3 else 1
    flat = top.positions[idx].numpy()
    position[:, :found, 0], position[:, :found, 1] = flat // width, flat % width

    boxes = np.zeros((len(chosen), k, 4), dtype=np.int64)
    for ci in range(len(chosen)):
        for j in range(found):
            boxes[ci, j] = field.box(int(position[ci, j, 0]), int(position[ci, j, 1]), image_hw)
    size = field_size(field)
    cut = {
        (ci, j): clip_to_image(tuple(boxes[ci, j]), image_hw)
        for ci in range(len(chosen))
        for j in range(found)
    }
    ph = max((b[2] - b[0] for b in cut.values()), default=1)
    pw = max((b[3] - b[1] for b in cut.values()), default=1)
    pictures = display_images.permute(0, 2, 3, 1).float().numpy()  # N x H x W x ch
    patches = np.full((len(chosen), k, ph, pw, pictures.shape[3]), np.nan, dtype=np.float32)
    for (ci, j), box in cut.items():
        piece = crop(pictures[image_index[ci, j]], box)
        patches[ci, j, : piece.shape[0], : piece.shape[1]] = piece
    clipped = size is not None and (size[0] > image_hw[0] or size[1] > image_hw[1])
    return TopPatches(
        name,
        np.array(chosen),
        values,
        image_index,
        position,
        boxes,
        patches,
        field.whole,
        size,
        clipped,
    )
