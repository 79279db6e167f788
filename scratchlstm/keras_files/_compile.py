"""The compile settings as Keras 3 stores them (``compile_config``), both ways.

Our optimizers, losses and metrics take Keras' names and arguments, so the conversion only
changes the wrapping: Keras writes ``{"module", "class_name", "config", "registered_name"}``,
ours ``{"class_name", "config"}`` (an optimizer's config flat). Keras' execution switches
(``run_eagerly``, ``jit_compile``, ``steps_per_execution``) change no numbers and are not kept;
our ``backend`` is not written (a loaded model compiles for NumPy; pass ``backend=`` to
``compile`` again for JAX).
"""

from __future__ import annotations

from typing import Any

from ._config import _plain, refuse_code

_EXECUTION_ONLY = ("run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss")


def _wrap(value: Any, module: str) -> Any:
    if isinstance(value, dict) and "class_name" in value:
        return {"module": module, "class_name": value["class_name"], "config": value.get("config", {}),
                "registered_name": None}
    if isinstance(value, dict):
        return {k: _wrap(v, module) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrap(v, module) for v in value]
    return value


def _optimizer_to_keras(config: dict[str, Any]) -> dict[str, Any]:
    """Our flat optimizer config as Keras' serialized object (a `LossScaleOptimizer`'s inner
    optimizer nested the same way, as Keras' ``serialize_keras_object`` writes it)."""
    optimizer = dict(config)
    class_name = optimizer.pop("class_name")
    if isinstance(optimizer.get("learning_rate"), dict):
        optimizer["learning_rate"] = _wrap(optimizer["learning_rate"], "keras.optimizers.schedules")
    if isinstance(optimizer.get("inner_optimizer"), dict):
        optimizer["inner_optimizer"] = _optimizer_to_keras(optimizer["inner_optimizer"])
    return {"module": "keras.optimizers", "class_name": class_name, "config": optimizer, "registered_name": None}


def compile_to_keras(compile_config: dict[str, Any]) -> dict[str, Any]:
    """Our ``model.get_compile_config()`` as Keras' ``compile_config``."""
    return {
        "optimizer": _optimizer_to_keras(compile_config["optimizer"]),
        "loss": _wrap(compile_config.get("loss"), "keras.losses"),
        "loss_weights": compile_config.get("loss_weights"),
        "metrics": _wrap(compile_config.get("metrics"), "keras.metrics"),
        "weighted_metrics": None,
    }


def compile_from_keras(compile_config: dict[str, Any], source: str) -> dict[str, Any]:
    """Keras' ``compile_config`` as keyword arguments for our ``compile``.

    Raises:
        ValueError: a setting we have no counterpart for (``weighted_metrics``), by name.
    """
    if not isinstance(compile_config, dict):
        raise ValueError(f"{source}: compile_config must be a JSON object, got {type(compile_config).__name__}")
    refuse_code(compile_config, f"{source} compile_config")
    known = {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", *_EXECUTION_ONLY}
    unknown = sorted(set(compile_config) - known)
    if unknown:
        raise ValueError(f"{source}: compile_config has settings {unknown} that scratchlstm does not know; "
                         "load with compile=False and compile yourself")
    if compile_config.get("weighted_metrics"):
        raise ValueError(f"{source}: weighted_metrics {compile_config['weighted_metrics']!r} are not supported; "
                         "load with compile=False and compile yourself")
    return {
        "optimizer": _plain(compile_config.get("optimizer", "rmsprop")),
        "loss": _plain(compile_config.get("loss")),
        "loss_weights": compile_config.get("loss_weights"),
        "metrics": _plain(compile_config.get("metrics")),
    }
