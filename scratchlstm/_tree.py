"""Minimal pytree helpers for the NumPy side: nested dicts, lists and tuples of arrays.

Dict keys are visited in sorted order, the order ``jax.tree_util`` uses, so a flat list of
leaves lines up between the two backends.
"""

from __future__ import annotations

from typing import Any, Callable


def tree_leaves(tree: Any) -> list[Any]:
    """Return the leaves of ``tree`` (anything that is not a dict, list or tuple), in order."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in tree_leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in tree_leaves(item)]
    return [tree]


def tree_map(fn: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``fn`` leafwise to ``tree`` and the trees in ``rest`` (all of the same structure)."""
    if isinstance(tree, dict):
        return {key: tree_map(fn, tree[key], *(r[key] for r in rest)) for key in tree}
    if isinstance(tree, (list, tuple)):
        mapped = [tree_map(fn, item, *(r[i] for r in rest)) for i, item in enumerate(tree)]
        return type(tree)(*mapped) if hasattr(tree, "_fields") else type(tree)(mapped)  # NamedTuple
    return fn(tree, *rest)


def flatten_paths(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"lstm": {"kernel": a}}`` -> ``{"lstm/kernel": a}`` (nested dicts only; order kept)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_paths(value, path + "/"))
        else:
            flat[path] = value
    return flat


def unflatten_paths(flat: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `flatten_paths`."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, leaf = path.split("/")
        node = tree
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return tree
