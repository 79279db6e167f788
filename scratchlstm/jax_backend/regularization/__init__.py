"""The regularization layers in JAX: pure forwards (gradients by autodiff) and the protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.regularization``; each has
``layer_forward`` (DESIGN §7). Masks come from ``jax.random.bernoulli`` on the key of the call.
"""

from .dropout import draw_dropout_mask, dropout_forward
from .gaussian_noise import draw_gaussian_noise, gaussian_noise_forward
from .spatial_dropout1d import spatial_dropout1d_forward

__all__ = [
    "draw_dropout_mask",
    "draw_gaussian_noise",
    "dropout_forward",
    "gaussian_noise_forward",
    "spatial_dropout1d_forward",
]
