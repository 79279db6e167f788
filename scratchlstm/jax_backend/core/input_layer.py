"""``InputLayer`` in JAX: the identity."""


def layer_forward(layer, params, state, inputs, *, training=False, key=None, mask=None):
    return inputs, state
