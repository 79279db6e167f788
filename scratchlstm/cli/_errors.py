"""The one exception the command line turns into a message instead of a traceback."""

from __future__ import annotations


class CLIError(Exception):
    """A problem with the user's input or setup: printed as one line on stderr, exit status 2."""
