"""``python -m scratchlstm.cli``: the same as the ``scratchlstm`` console script."""

from __future__ import annotations

from . import main

raise SystemExit(main())
