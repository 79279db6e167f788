"""The convolution layers in JAX: pure forwards (gradients by autodiff) and the protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.convolutional``; each has
``layer_forward`` (DESIGN §7).
"""

from .conv1d import conv1d_forward

__all__ = ["conv1d_forward"]
