"""``InputLayer`` in NumPy: the identity (a graph seeds its input tensors directly)."""


def layer_forward(layer, params, state, inputs, *, training=False, rng=None, mask=None):
    return inputs, state, None


def layer_backward(layer, params, cache, d_outputs, *, input_gradient=True):
    return {}, d_outputs
