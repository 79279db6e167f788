"""Every public callable is fully annotated, so ``mypy --strict`` user code can rely on it.

Walks each public module's ``__all__``: for a public function, every parameter (except
``self``/``cls``/``*args``/``**kwargs``) and the return are annotated; for a public class, its
``__init__`` parameters and every public method defined in the package are. Annotations stay
strings (``from __future__ import annotations``), so nothing is evaluated here.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

PUBLIC_MODULES = (
    "scratchlstm", "scratchlstm.layers", "scratchlstm.models", "scratchlstm.optimizers",
    "scratchlstm.optimizers.schedules", "scratchlstm.losses", "scratchlstm.metrics",
    "scratchlstm.callbacks", "scratchlstm.initializers", "scratchlstm.activations",
    "scratchlstm.regularizers", "scratchlstm.constraints", "scratchlstm.data",
    "scratchlstm.data.text", "scratchlstm.datasets", "scratchlstm.utils",
    "scratchlstm.mixed_precision", "scratchlstm.interop", "scratchlstm.distributed",
)

# Public callables allowed to lack an annotation for now (qualified names as reported by
# ``missing_annotations``); empty: every public callable is annotated. A test fails when an
# entry here is annotated after all, so the list only shrinks.
NOT_YET: frozenset[str] = frozenset()

SKIPPED_PARAMETER_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def import_public(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as error:  # an optional dependency (jax, torch, ...) is missing
        pytest.skip(f"{name} needs an optional dependency: {error}")


def defined_in_package(function: Any) -> bool:
    return getattr(function, "__module__", "").startswith("scratchlstm")


def missing_in(function: Any, *, is_init: bool = False) -> list[str]:
    """The parameters (and ``return``) of ``function`` that carry no annotation."""
    try:
        signature = inspect.signature(function, eval_str=False)
    except (TypeError, ValueError):  # a builtin or C callable: nothing to annotate
        return []
    missing = [
        parameter.name for index, parameter in enumerate(signature.parameters.values())
        if parameter.annotation is inspect.Parameter.empty
        and parameter.kind not in SKIPPED_PARAMETER_KINDS
        and not (index == 0 and parameter.name in ("self", "cls"))
    ]
    if not is_init and signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def class_methods(cls: type) -> dict[str, Any]:
    """``__init__`` and the public methods (plain, class, static, properties) the package defines."""
    methods: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith("scratchlstm"):
            continue
        for name, attribute in vars(klass).items():
            if name != "__init__" and name.startswith("_"):
                continue
            if isinstance(attribute, (staticmethod, classmethod)):
                attribute = attribute.__func__
            elif isinstance(attribute, property):
                attribute = attribute.fget
            if inspect.isfunction(attribute) and defined_in_package(attribute):
                methods[name] = inspect.unwrap(attribute)  # a generated wrapper reports the wrapped
    return methods


def missing_annotations(module_name: str) -> dict[str, list[str]]:
    module = import_public(module_name)
    report: dict[str, list[str]] = {}
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) and value.__module__.startswith("scratchlstm"):
            for method_name, method in class_methods(value).items():
                missing = missing_in(method, is_init=method_name == "__init__")
                if missing:
                    report[f"{method.__module__}.{method.__qualname__}"] = missing
        elif inspect.isfunction(value) and defined_in_package(value):
            missing = missing_in(value)
            if missing:
                report[f"{value.__module__}.{value.__qualname__}"] = missing
    return report


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_callables_are_fully_annotated(module_name):
    report = {name: missing for name, missing in missing_annotations(module_name).items()
              if name not in NOT_YET}
    lines = "\n".join(f"  {name}: {', '.join(missing)}" for name, missing in sorted(report.items()))
    assert not report, f"{len(report)} public callables in {module_name} lack annotations:\n{lines}"


def test_the_checker_sees_a_missing_annotation():
    # The walk must report what it is meant to: a bare function, a method, an __init__ parameter.
    def bare(x, *args, y: int = 0, **kwargs):
        return x

    class Layer:
        def __init__(self, units, *, name: str | None = None) -> None:
            self.units = units

        def call(self, inputs: Any):
            return inputs

    assert missing_in(bare) == ["x", "return"]
    assert missing_in(Layer.__init__, is_init=True) == ["units"]
    assert missing_in(Layer.call) == ["return"]


def test_not_yet_lists_only_real_gaps():
    # An entry that was annotated meanwhile must leave the allowlist.
    everything: dict[str, list[str]] = {}
    for module_name in PUBLIC_MODULES:
        try:
            everything.update(missing_annotations(module_name))
        except pytest.skip.Exception:
            continue
    stale = sorted(NOT_YET - set(everything))
    assert not stale, f"annotated now, remove from NOT_YET: {stale}"
