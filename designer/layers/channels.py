"""Rearranging channels: ChannelShuffle (ShuffleNet) and ChannelSlice (a range of channels, as
ShuffleNet's x.chunk(2, dim=1) splits its input between a shortcut and a branch)."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.params import Int
from designer.core.registry import LayerSpec, register_layer
from designer.layers._util import call, need_image


@register_layer
class ChannelShuffle(LayerSpec):
    type = "ChannelShuffle"
    title = "Channel shuffle"
    category = "Merge"
    help = (
        "Interleaves the channels of its groups (ShuffleNet), so the next grouped "
        "convolution mixes information across groups."
    )
    params = (Int("groups", 2, "Number of channel groups (must divide the channels).", min=1),)

    def infer_shape(self, p, in_shapes):
        c, _, _ = need_image(self.title, in_shapes[0])
        if c % p["groups"]:
            raise ShapeError(f"{c} channels are not divisible by groups {p['groups']}", "groups")
        return in_shapes[0]

    def emit_module(self, p, in_shapes):
        return call("nn.ChannelShuffle", p["groups"])

    def summary_text(self, p):
        return f"{p['groups']} groups"


@register_layer
class ChannelSlice(LayerSpec):
    type = "ChannelSlice"
    title = "Channel slice"
    category = "Merge"
    help = "Keeps the channels from start up to (not including) stop: x[:, start:stop]."
    params = (
        Int("start", 0, "First channel kept (0 = the first).", min=0),
        Int("stop", 1, "Channel after the last one kept.", min=1),
    )

    def infer_shape(self, p, in_shapes):
        shape = in_shapes[0]
        if not p["start"] < p["stop"] <= shape[0]:
            raise ShapeError(
                f"channels {p['start']}:{p['stop']} are not within the input's "
                f"{shape[0]} (start must be below stop)",
                "stop",
            )
        return (p["stop"] - p["start"], *shape[1:])

    def emit_forward(self, p, module, args, in_shapes):
        return f"{args[0]}[:, {p['start']}:{p['stop']}]"

    def summary_text(self, p):
        return f"{p['start']}:{p['stop']}"
