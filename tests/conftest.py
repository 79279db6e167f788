"""Make the checkout importable when the package is not installed (``pip install -e .`` also works)."""

import os
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# pytest-xdist runs one worker per core; letting BLAS start its own threads on top of that
# oversubscribes the 2-core machine (small per-step GEMMs ran 4-5x slower). Tests are not
# benchmarks, so cap BLAS at one thread here and in the subprocesses the tests start.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
except ImportError:  # pragma: no cover - threadpoolctl is in the test extra
    pass
