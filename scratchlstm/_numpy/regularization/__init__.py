"""The regularization layers in NumPy: pure forward/backward pairs and the layer protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.regularization``; each has
``layer_forward`` and ``layer_backward`` (DESIGN §7). The random draws (`draw_dropout_mask`,
`draw_gaussian_noise`) are separate from the forwards, which take them as arguments, so a test
can pass the same mask to both backends; the caches keep what was drawn for the backward.
"""

from .dropout import DropoutCache, concrete_noise_shape, draw_dropout_mask, dropout_backward, dropout_forward
from .gaussian_noise import GaussianNoiseCache, draw_gaussian_noise, gaussian_noise_backward, gaussian_noise_forward
from .spatial_dropout1d import spatial_dropout1d_backward, spatial_dropout1d_forward

__all__ = [
    "DropoutCache",
    "GaussianNoiseCache",
    "concrete_noise_shape",
    "draw_dropout_mask",
    "draw_gaussian_noise",
    "dropout_backward",
    "dropout_forward",
    "gaussian_noise_backward",
    "gaussian_noise_forward",
    "spatial_dropout1d_backward",
    "spatial_dropout1d_forward",
]
