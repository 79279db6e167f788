"""``python -m scratchlstm.cli``: the same as the ``scratchlstm`` console script."""

from . import main

raise SystemExit(main())
