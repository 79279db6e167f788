"""The convolution layers in NumPy: pure forward/backward pairs and the layer protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.convolutional``; each has
``layer_forward`` and ``layer_backward`` (DESIGN §7) next to the pure functions they call.
"""

from .conv1d import col2im, conv1d_backward, conv1d_forward, im2col

__all__ = ["col2im", "conv1d_backward", "conv1d_forward", "im2col"]
