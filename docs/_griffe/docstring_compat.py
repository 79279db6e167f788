"""A griffe extension that lets mkdocstrings render this project's docstrings as intended.

The docstrings are Google style with a few reStructuredText habits. This extension rewrites
them in memory, at documentation build time only (the source files are not touched):

- a section titled ``Example:`` becomes ``Examples:``, so that its ``>>>`` lines are shown as a
  Python code block (griffe only treats the plural title as an examples section);
- Sphinx roles such as ``:func:`lstm_backward``` or ``:class:`~scratchlstm.callbacks.History```
  become plain code spans (``lstm_backward``, ``History``);
- a line that ends in the literal-block marker ``::`` ends in ``:`` instead.

Each rule is a no-op for a docstring that does not use the habit, so the extension can stay
after the docstrings are changed.
"""

from __future__ import annotations

import re

import griffe

_EXAMPLE_TITLE = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)
_SPHINX_ROLE = re.compile(r":(?:func|class|meth|mod|attr|obj|data|exc):`(~?)([^`]+)`")
_LITERAL_MARKER = re.compile(r"(\S)::[ \t]*$", re.MULTILINE)


def _role_to_code(match: re.Match) -> str:
    tilde, target = match.groups()
    # As in Sphinx, ``~a.b.C`` shows only the last name, ``C``.
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def normalize(text: str) -> str:
    """Return ``text`` with the three rewrites above applied."""
    text = _EXAMPLE_TITLE.sub(r"\1Examples:", text)
    text = _SPHINX_ROLE.sub(_role_to_code, text)
    return _LITERAL_MARKER.sub(r"\1:", text)


class DocstringCompat(griffe.Extension):
    """Apply :func:`normalize` to every docstring as griffe loads it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:  # noqa: D102
        if obj.docstring is not None:
            obj.docstring.value = normalize(obj.docstring.value)
