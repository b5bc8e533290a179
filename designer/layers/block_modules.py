"""The PyTorch classes that generated code uses for the built-in blocks, written as torchvision
writes its models, and for the layers torch.nn has no module for (Shift, Scale,
StochasticDepth, LayerNorm2d). The code generator copies a block's class (and the classes it
uses) into the generated file as text, so the design model never imports this module or torch.

Each class is the twin of its spec's `build()` in blocks.py: the same submodules under the same
names in the same order (so state_dict keys and torchvision's weights map as for the inner graph)
and the same computation. Its constructor takes `in_channels` and then the block's params under
their own names, with the spec's defaults. tests/layers/test_block_modules.py checks all of this.
"""

import torch
from torch import Tensor, nn


class Shift(nn.Module):
    """Adds learned constants (initialized to 0) to its input."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shift = nn.Parameter(torch.zeros(shape))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.shift


class Scale(nn.Module):
    """Multiplies its input by learned constants (initialized to `init`)."""

    def __init__(self, shape: tuple[int, ...], init: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.full(shape, init))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale


class StochasticDepth(nn.Module):
    """While training, drops the input (a residual branch) with probability p: per sample
    ("row") or for the whole batch ("batch"), scaling what is kept by 1 / (1 - p); the identity
    in eval mode. As torchvision.ops.StochasticDepth computes it."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of each pixel of an N x C x H x W image, as torchvision's
    ConvNeXt computes it: channels-last, layer_norm over C, back."""

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ConvBNAct(nn.Module):
    """A convolution without bias, BatchNorm and an activation (ReLU, ReLU6, Hardswish, SiLU or
    none)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        stride: int = 1,
        padding: int | tuple[int, int] | None = None,
        groups: int = 1,
        activation: str = "ReLU",
        eps: float = 1e-5,
        momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if padding is None:  # the same size out at stride 1, for each dimension
            if isinstance(kernel_size, int):
                padding = (kernel_size - 1) // 2
            else:
                padding = ((kernel_size[0] - 1) // 2, (kernel_size[1] - 1) // 2)
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            groups=groups,
            bias=False,
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=eps, momentum=momentum)
        activations = {
            "ReLU": nn.ReLU,
            "ReLU6": nn.ReLU6,
            "Hardswish": nn.Hardswish,
            "SiLU": nn.SiLU,
        }
        self.relu = activations[activation](inplace=True) if activation != "none" else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        x = self.bn(x)
        if self.relu is not None:
            x = self.relu(x)
        return x


class InceptionModule(nn.Module):
    """GoogLeNet's Inception module: four branches side by side, concatenated."""

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
        branch3_kernel: int = 5,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()

        # batch_norm=False gives the paper's units: a convolution with a bias, then ReLU.
        def norm(channels: int) -> nn.Module:
            return nn.BatchNorm2d(channels, eps=0.001) if batch_norm else nn.Identity()

        bias = not batch_norm
        self.branch1_conv = nn.Conv2d(in_channels, ch1x1, kernel_size=1, bias=bias)
        self.branch1_bn = norm(ch1x1)
        self.branch1_relu = nn.ReLU(inplace=True)
        self.branch2_conv1 = nn.Conv2d(in_channels, ch3x3red, kernel_size=1, bias=bias)
        self.branch2_bn1 = norm(ch3x3red)
        self.branch2_relu1 = nn.ReLU(inplace=True)
        self.branch2_conv2 = nn.Conv2d(ch3x3red, ch3x3, kernel_size=3, padding=1, bias=bias)
        self.branch2_bn2 = norm(ch3x3)
        self.branch2_relu2 = nn.ReLU(inplace=True)
        self.branch3_conv1 = nn.Conv2d(in_channels, ch5x5red, kernel_size=1, bias=bias)
        self.branch3_bn1 = norm(ch5x5red)
        self.branch3_relu1 = nn.ReLU(inplace=True)
        self.branch3_conv2 = nn.Conv2d(
            ch5x5red, ch5x5, kernel_size=branch3_kernel, padding=branch3_kernel // 2, bias=bias
        )
        self.branch3_bn2 = norm(ch5x5)
        self.branch3_relu2 = nn.ReLU(inplace=True)
        self.branch4_pool = nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True)
        self.branch4_conv = nn.Conv2d(in_channels, pool_proj, kernel_size=1, bias=bias)
        self.branch4_bn = norm(pool_proj)
        self.branch4_relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        branch1 = self.branch1_relu(self.branch1_bn(self.branch1_conv(x)))
        branch2 = self.branch2_relu1(self.branch2_bn1(self.branch2_conv1(x)))
        branch2 = self.branch2_relu2(self.branch2_bn2(self.branch2_conv2(branch2)))
        branch3 = self.branch3_relu1(self.branch3_bn1(self.branch3_conv1(x)))
        branch3 = self.branch3_relu2(self.branch3_bn2(self.branch3_conv2(branch3)))
        branch4 = self.branch4_pool(x)
        branch4 = self.branch4_relu(self.branch4_bn(self.branch4_conv(branch4)))
        return torch.cat([branch1, branch2, branch3, branch4], 1)


class ResidualBasicBlock(nn.Module):
    """ResNet-18/34's block: two 3x3 convolutions plus a shortcut, which is a 1x1 projection
    when the stride or the channels change.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False
        )
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.downsample_conv = nn.Conv2d(
                in_channels, out_channels, kernel_size=1, stride=stride, bias=False
            )
            self.downsample_bn = nn.BatchNorm2d(out_channels)
        else:
            self.downsample_conv = None
            self.downsample_bn = None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu1(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample_conv is not None:
            identity = self.downsample_bn(self.downsample_conv(x))
        return self.relu(out + identity)


class ResidualBottleneck(nn.Module):
    """ResNet-50/101/152's block: a 1x1 reduction to `width` channels, a 3x3 convolution
    carrying the stride (ResNet v1.5), a 1x1 expansion to `width * expansion` channels, plus a
    shortcut, which is a 1x1 projection when the stride or the channels change.
    """

    def __init__(
        self,
        in_channels: int,
        width: int,
        stride: int = 1,
        expansion: int = 4,
        groups: int = 1,
    ) -> None:
        super().__init__()
        out_channels = width * expansion
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(
            width, width, kernel_size=3, stride=stride, padding=1, groups=groups, bias=False
        )
        self.bn2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(width, out_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.downsample_conv = nn.Conv2d(
                in_channels, out_channels, kernel_size=1, stride=stride, bias=False
            )
            self.downsample_bn = nn.BatchNorm2d(out_channels)
        else:
            self.downsample_conv = None
            self.downsample_bn = None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu1(out)
        out = self.conv2(out)
        out = self.bn2(out)
        out = self.relu2(out)
        out = self.conv3(out)
        out = self.bn3(out)
        if self.downsample_conv is not None:
            identity = self.downsample_bn(self.downsample_conv(x))
        return self.relu(out + identity)


class DenseLayer(nn.Module):
    """DenseNet's layer: BN-ReLU-1x1 convolution to `bn_size * growth_rate` channels, then
    BN-ReLU-3x3 convolution to `growth_rate` new channels.
    """

    def __init__(
        self,
        in_channels: int,
        growth_rate: int,
        bn_size: int = 4,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(
            bn_size * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False
        )
        self.dropout = nn.Dropout(p=drop_rate) if drop_rate > 0 else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(self.relu1(self.norm1(x)))
        out = self.conv2(self.relu2(self.norm2(out)))
        if self.dropout is not None:
            out = self.dropout(out)
        return out


class DenseBlock(nn.ModuleDict):
    """DenseNet's block: each layer sees the concatenation of the block's input and all earlier
    layers' outputs, and adds `growth_rate` channels to it.
    """

    def __init__(
        self,
        in_channels: int,
        num_layers: int,
        growth_rate: int,
        bn_size: int = 4,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.values():
            x = torch.cat([x, layer(x)], 1)
        return x


class DenseTransition(nn.Module):
    """Between dense blocks: BN-ReLU-1x1 convolution keeping `compression` of the channels,
    then 2x2 average pooling.
    """

    def __init__(self, in_channels: int, compression: float = 0.5) -> None:
        super().__init__()
        out_channels = max(1, int(in_channels * compression))
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.conv(self.relu(self.norm(x))))


class FireModule(nn.Module):
    """SqueezeNet's Fire module: a 1x1 squeeze convolution, then 1x1 and 3x3 expand
    convolutions side by side, concatenated.
    """

    def __init__(
        self,
        in_channels: int,
        squeeze: int,
        expand1x1: int,
        expand3x3: int,
    ) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [
                self.expand1x1_activation(self.expand1x1(x)),
                self.expand3x3_activation(self.expand3x3(x)),
            ],
            1,
        )


class InvertedResidual(nn.Module):
    """MobileNetV2's block: a 1x1 expansion to `in_channels * expand_ratio` channels (none when
    the ratio is 1), a 3x3 depthwise convolution, a linear 1x1 projection, and a shortcut when
    the stride is 1 and the channels stay the same.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        expand_ratio: int = 6,
        activation: str = "ReLU6",
    ) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        act = nn.ReLU6 if activation == "ReLU6" else nn.ReLU
        self.use_shortcut = stride == 1 and in_channels == out_channels
        if expand_ratio != 1:
            self.conv_expand = nn.Conv2d(in_channels, hidden, kernel_size=1, bias=False)
            self.bn_expand = nn.BatchNorm2d(hidden)
            self.relu_expand = act(inplace=True)
        else:
            self.conv_expand = None
            self.bn_expand = None
            self.relu_expand = None
        self.conv_depthwise = nn.Conv2d(
            hidden, hidden, kernel_size=3, stride=stride, padding=1, groups=hidden, bias=False
        )
        self.bn_depthwise = nn.BatchNorm2d(hidden)
        self.relu_depthwise = act(inplace=True)
        self.conv_project = nn.Conv2d(hidden, out_channels, kernel_size=1, bias=False)
        self.bn_project = nn.BatchNorm2d(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        out = x
        if self.conv_expand is not None:
            out = self.relu_expand(self.bn_expand(self.conv_expand(out)))
        out = self.relu_depthwise(self.bn_depthwise(self.conv_depthwise(out)))
        out = self.bn_project(self.conv_project(out))
        if self.use_shortcut:
            return x + out
        return out


class ConvNeXtBlock(nn.Module):
    """ConvNeXt's block: a 7x7 depthwise convolution, then at every pixel (channels-last)
    LayerNorm, a Linear expansion to 4x the channels, GELU and a Linear back; the branch is
    scaled per channel (layer scale, from `layer_scale`), dropped by stochastic depth while
    training, and added to the input. As torchvision's CNBlock computes it.
    """

    def __init__(
        self,
        in_channels: int,
        layer_scale: float = 1e-6,
        stochastic_depth_prob: float = 0.0,
    ) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(
            in_channels, in_channels, kernel_size=7, padding=3, groups=in_channels
        )
        self.norm = nn.LayerNorm(in_channels, eps=1e-6)
        self.pwconv1 = nn.Linear(in_channels, 4 * in_channels)
        self.gelu = nn.GELU()
        self.pwconv2 = nn.Linear(4 * in_channels, in_channels)
        self.layer_scale = Scale((in_channels, 1, 1), init=layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x: Tensor) -> Tensor:
        out = self.dwconv(x).permute(0, 2, 3, 1)
        out = self.pwconv2(self.gelu(self.pwconv1(self.norm(out))))
        out = self.layer_scale(out.permute(0, 3, 1, 2))
        return x + self.stochastic_depth(out)


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation: the channels' means, a 1x1 convolution to `squeeze_channels`, an
    activation, a 1x1 convolution back and a gate (sigmoid) give one weight per channel, which
    multiplies the input. As torchvision.ops.SqueezeExcitation computes it.
    """

    def __init__(
        self,
        in_channels: int,
        squeeze_channels: int,
        activation: str = "ReLU",
        gate: str = "Sigmoid",
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(in_channels, squeeze_channels, kernel_size=1)
        self.activation = {"ReLU": nn.ReLU, "SiLU": nn.SiLU}[activation](inplace=True)
        self.fc2 = nn.Conv2d(squeeze_channels, in_channels, kernel_size=1)
        self.gate = {"Sigmoid": nn.Sigmoid, "Hardsigmoid": nn.Hardsigmoid}[gate]()

    def forward(self, x: Tensor) -> Tensor:
        scale = self.gate(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return x * scale


class MBConv(nn.Module):
    """MobileNetV3's and EfficientNet's block: a 1x1 expansion to `expanded_channels` (none when
    that is the input's), a depthwise convolution, squeeze-and-excitation (when se_channels is
    not 0), a linear 1x1 projection, and a shortcut, through stochastic depth, when the stride
    is 1 and the channels stay the same.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expanded_channels: int | None = None,
        kernel_size: int = 3,
        stride: int = 1,
        activation: str = "SiLU",
        se_channels: int = 0,
        se_activation: str = "SiLU",
        se_gate: str = "Sigmoid",
        stochastic_depth_prob: float = 0.0,
        eps: float = 1e-5,
        momentum: float = 0.1,
    ) -> None:
        super().__init__()
        hidden = in_channels if expanded_channels is None else expanded_channels
        norm = {"eps": eps, "momentum": momentum}
        self.use_shortcut = stride == 1 and in_channels == out_channels
        if hidden != in_channels:
            self.expand = ConvBNAct(in_channels, hidden, 1, activation=activation, **norm)
        else:
            self.expand = None
        self.depthwise = ConvBNAct(
            hidden, hidden, kernel_size, stride=stride, groups=hidden, activation=activation, **norm
        )
        if se_channels:
            self.se = SqueezeExcitation(hidden, se_channels, se_activation, se_gate)
        else:
            self.se = None
        self.project = ConvBNAct(hidden, out_channels, 1, activation="none", **norm)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x: Tensor) -> Tensor:
        out = x
        if self.expand is not None:
            out = self.expand(out)
        out = self.depthwise(out)
        if self.se is not None:
            out = self.se(out)
        out = self.project(out)
        if self.use_shortcut:
            return x + self.stochastic_depth(out)
        return out


class DepthwiseSeparableConv(nn.Module):
    """A depthwise convolution (one filter per channel) with BatchNorm and an activation, then a
    1x1 pointwise convolution with BatchNorm (and the activation again, as MobileNetV1 does,
    unless pointwise_activation is off): a k x k convolution's job for a fraction of its cost.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        activation: str = "ReLU",
        pointwise_activation: bool = True,
    ) -> None:
        super().__init__()
        self.depthwise = ConvBNAct(
            in_channels,
            in_channels,
            kernel_size,
            stride=stride,
            groups=in_channels,
            activation=activation,
        )
        self.pointwise = ConvBNAct(
            in_channels,
            out_channels,
            1,
            activation=activation if pointwise_activation else "none",
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))


class ShuffleUnit(nn.Module):
    """ShuffleNetV2's unit. With stride 1 half the channels pass through and the other half go
    through 1x1, 3x3 depthwise and 1x1 convolutions; with stride 2 both halves of the output are
    computed from the whole input (a depthwise and a 1x1 convolution on the left). The halves
    are concatenated and their channels shuffled between two groups.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2) -> None:
        super().__init__()
        branch = out_channels // 2
        self.half = in_channels // 2
        if stride > 1:
            self.branch1_dwconv = nn.Conv2d(
                in_channels,
                in_channels,
                kernel_size=3,
                stride=stride,
                padding=1,
                groups=in_channels,
                bias=False,
            )
            self.branch1_bn_dw = nn.BatchNorm2d(in_channels)
            self.branch1_conv = nn.Conv2d(in_channels, branch, kernel_size=1, bias=False)
            self.branch1_bn = nn.BatchNorm2d(branch)
            self.branch1_relu = nn.ReLU(inplace=True)
        else:
            self.branch1_dwconv = None
            self.branch1_bn_dw = None
            self.branch1_conv = None
            self.branch1_bn = None
            self.branch1_relu = None
        self.branch2_conv1 = nn.Conv2d(
            in_channels if stride > 1 else self.half, branch, kernel_size=1, bias=False
        )
        self.branch2_bn1 = nn.BatchNorm2d(branch)
        self.branch2_relu1 = nn.ReLU(inplace=True)
        self.branch2_dwconv = nn.Conv2d(
            branch, branch, kernel_size=3, stride=stride, padding=1, groups=branch, bias=False
        )
        self.branch2_bn_dw = nn.BatchNorm2d(branch)
        self.branch2_conv2 = nn.Conv2d(branch, branch, kernel_size=1, bias=False)
        self.branch2_bn2 = nn.BatchNorm2d(branch)
        self.branch2_relu2 = nn.ReLU(inplace=True)
        self.shuffle = nn.ChannelShuffle(2)

    def forward(self, x: Tensor) -> Tensor:
        if self.branch1_dwconv is not None:
            left = self.branch1_bn_dw(self.branch1_dwconv(x))
            left = self.branch1_relu(self.branch1_bn(self.branch1_conv(left)))
            right = x
        else:
            left = x[:, : self.half]
            right = x[:, self.half :]
        right = self.branch2_relu1(self.branch2_bn1(self.branch2_conv1(right)))
        right = self.branch2_bn_dw(self.branch2_dwconv(right))
        right = self.branch2_relu2(self.branch2_bn2(self.branch2_conv2(right)))
        return self.shuffle(torch.cat([left, right], 1))


class RegNetBottleneck(nn.Module):
    """RegNet's residual bottleneck: 1x1 to width out_channels * bottleneck_multiplier, a
    grouped 3x3 (groups of group_width channels) carrying the stride, squeeze-and-excitation
    (when se_channels is not 0), a linear 1x1; plus a shortcut, a 1x1 projection when the
    stride or the channels change; then ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        group_width: int = 8,
        bottleneck_multiplier: float = 1.0,
        se_channels: int = 0,
    ) -> None:
        super().__init__()
        width = round(out_channels * bottleneck_multiplier)
        if stride != 1 or in_channels != out_channels:
            self.proj = ConvBNAct(in_channels, out_channels, 1, stride=stride, activation="none")
        else:
            self.proj = None
        self.a = ConvBNAct(in_channels, width, 1)
        self.b = ConvBNAct(width, width, 3, stride=stride, groups=width // group_width)
        self.se = SqueezeExcitation(width, se_channels) if se_channels else None
        self.c = ConvBNAct(width, out_channels, 1, activation="none")
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.b(self.a(x))
        if self.se is not None:
            out = self.se(out)
        out = self.c(out)
        if self.proj is not None:
            return self.relu(self.proj(x) + out)
        return self.relu(x + out)


class InceptionA(nn.Module):
    """Inception-v3's 35 x 35 module: 1x1, 1x1-5x5, 1x1-3x3-3x3 and average pooling-1x1
    branches (BasicConv2d units: BatchNorm eps 0.001), concatenated."""

    def __init__(self, in_channels: int, pool_features: int = 32) -> None:
        super().__init__()
        self.branch1x1 = ConvBNAct(in_channels, 64, 1, eps=0.001)
        self.branch5x5_1 = ConvBNAct(in_channels, 48, 1, eps=0.001)
        self.branch5x5_2 = ConvBNAct(48, 64, 5, eps=0.001)
        self.branch3x3dbl_1 = ConvBNAct(in_channels, 64, 1, eps=0.001)
        self.branch3x3dbl_2 = ConvBNAct(64, 96, 3, eps=0.001)
        self.branch3x3dbl_3 = ConvBNAct(96, 96, 3, eps=0.001)
        self.branch_pool_avg = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = ConvBNAct(in_channels, pool_features, 1, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(self.branch_pool_avg(x))
        return torch.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class InceptionB(nn.Module):
    """Inception-v3's reduction to 17 x 17: a strided 3x3, 1x1-3x3-strided 3x3 and max
    pooling, concatenated."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = ConvBNAct(in_channels, 384, 3, stride=2, padding=0, eps=0.001)
        self.branch3x3dbl_1 = ConvBNAct(in_channels, 64, 1, eps=0.001)
        self.branch3x3dbl_2 = ConvBNAct(64, 96, 3, eps=0.001)
        self.branch3x3dbl_3 = ConvBNAct(96, 96, 3, stride=2, padding=0, eps=0.001)
        self.branch_pool = nn.MaxPool2d(kernel_size=3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        branch3x3 = self.branch3x3(x)
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([branch3x3, branch3x3dbl, self.branch_pool(x)], 1)


class InceptionC(nn.Module):
    """Inception-v3's 17 x 17 module: 7x7 convolutions factorized into 1x7 and 7x1 with
    `channels_7x7` channels inside, beside a 1x1 and an average pooling-1x1 branch."""

    def __init__(self, in_channels: int, channels_7x7: int = 128) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = ConvBNAct(in_channels, 192, 1, eps=0.001)
        self.branch7x7_1 = ConvBNAct(in_channels, c7, 1, eps=0.001)
        self.branch7x7_2 = ConvBNAct(c7, c7, (1, 7), eps=0.001)
        self.branch7x7_3 = ConvBNAct(c7, 192, (7, 1), eps=0.001)
        self.branch7x7dbl_1 = ConvBNAct(in_channels, c7, 1, eps=0.001)
        self.branch7x7dbl_2 = ConvBNAct(c7, c7, (7, 1), eps=0.001)
        self.branch7x7dbl_3 = ConvBNAct(c7, c7, (1, 7), eps=0.001)
        self.branch7x7dbl_4 = ConvBNAct(c7, c7, (7, 1), eps=0.001)
        self.branch7x7dbl_5 = ConvBNAct(c7, 192, (1, 7), eps=0.001)
        self.branch_pool_avg = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = ConvBNAct(in_channels, 192, 1, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        branch1x1 = self.branch1x1(x)
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_1(x)
        branch7x7dbl = self.branch7x7dbl_3(self.branch7x7dbl_2(branch7x7dbl))
        branch7x7dbl = self.branch7x7dbl_5(self.branch7x7dbl_4(branch7x7dbl))
        branch_pool = self.branch_pool(self.branch_pool_avg(x))
        return torch.cat([branch1x1, branch7x7, branch7x7dbl, branch_pool], 1)


class InceptionD(nn.Module):
    """Inception-v3's reduction to 8 x 8: 1x1-strided 3x3, 1x1-1x7-7x1-strided 3x3 and max
    pooling, concatenated."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = ConvBNAct(in_channels, 192, 1, eps=0.001)
        self.branch3x3_2 = ConvBNAct(192, 320, 3, stride=2, padding=0, eps=0.001)
        self.branch7x7x3_1 = ConvBNAct(in_channels, 192, 1, eps=0.001)
        self.branch7x7x3_2 = ConvBNAct(192, 192, (1, 7), eps=0.001)
        self.branch7x7x3_3 = ConvBNAct(192, 192, (7, 1), eps=0.001)
        self.branch7x7x3_4 = ConvBNAct(192, 192, 3, stride=2, padding=0, eps=0.001)
        self.branch_pool = nn.MaxPool2d(kernel_size=3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        branch7x7x3 = self.branch7x7x3_2(self.branch7x7x3_1(x))
        branch7x7x3 = self.branch7x7x3_4(self.branch7x7x3_3(branch7x7x3))
        return torch.cat([branch3x3, branch7x7x3, self.branch_pool(x)], 1)


class InceptionE(nn.Module):
    """Inception-v3's 8 x 8 module: its 3x3 branches end in a 1x3 and a 3x1 side by side
    (expanded filter banks), beside a 1x1 and an average pooling-1x1 branch."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBNAct(in_channels, 320, 1, eps=0.001)
        self.branch3x3_1 = ConvBNAct(in_channels, 384, 1, eps=0.001)
        self.branch3x3_2a = ConvBNAct(384, 384, (1, 3), eps=0.001)
        self.branch3x3_2b = ConvBNAct(384, 384, (3, 1), eps=0.001)
        self.branch3x3dbl_1 = ConvBNAct(in_channels, 448, 1, eps=0.001)
        self.branch3x3dbl_2 = ConvBNAct(448, 384, 3, eps=0.001)
        self.branch3x3dbl_3a = ConvBNAct(384, 384, (1, 3), eps=0.001)
        self.branch3x3dbl_3b = ConvBNAct(384, 384, (3, 1), eps=0.001)
        self.branch_pool_avg = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = ConvBNAct(in_channels, 192, 1, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        branch1x1 = self.branch1x1(x)
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], 1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat(
            [self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)], 1
        )
        branch_pool = self.branch_pool(self.branch_pool_avg(x))
        return torch.cat([branch1x1, branch3x3, branch3x3dbl, branch_pool], 1)


class FusedMBConv(nn.Module):
    """EfficientNetV2's early block: a k x k convolution expanding to `expanded_channels` and a
    linear 1x1 projection (or, without expansion, one k x k convolution to the output), and a
    shortcut, through stochastic depth, when the stride is 1 and the channels stay the same.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expanded_channels: int | None = None,
        kernel_size: int = 3,
        stride: int = 1,
        activation: str = "SiLU",
        stochastic_depth_prob: float = 0.0,
        eps: float = 1e-5,
        momentum: float = 0.1,
    ) -> None:
        super().__init__()
        norm = {"eps": eps, "momentum": momentum}
        self.use_shortcut = stride == 1 and in_channels == out_channels
        if expanded_channels is not None and expanded_channels != in_channels:
            self.expand = ConvBNAct(
                in_channels,
                expanded_channels,
                kernel_size,
                stride=stride,
                activation=activation,
                **norm,
            )
            self.project = ConvBNAct(expanded_channels, out_channels, 1, activation="none", **norm)
            self.fused = None
        else:
            self.expand = None
            self.project = None
            self.fused = ConvBNAct(
                in_channels, out_channels, kernel_size, stride=stride, activation=activation, **norm
            )
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x: Tensor) -> Tensor:
        if self.fused is not None:
            out = self.fused(x)
        else:
            out = self.project(self.expand(x))
        if self.use_shortcut:
            return x + self.stochastic_depth(out)
        return out
