"""scratchlstm: an LSTM from scratch in NumPy, with a jax.jit path that trains the same model fast."""

__version__ = "0.1.0"
