"""The built-in layer library. Importing this package registers every built-in type."""

from designer.layers import (  # noqa: F401  (imported for registration)
    activation,
    blocks,
    channels,
    conv,
    io,
    linear,
    merge,
    norm,
    pooling,
    regularization,
    shift_scale,
)
