"""Losses for ``model.compile(loss=...)``: names or `Loss` objects (e.g. ``from_logits=True``)."""

from ._numpy.losses import Loss, get_loss

__all__ = ["Loss", "get", "get_loss"]
get = get_loss
