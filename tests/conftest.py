"""Make the checkout importable when the package is not installed (``pip install -e .`` also works)."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# pytest-xdist runs one worker per core; letting BLAS start its own threads on top of that
# oversubscribes the 2-core machine (small per-step GEMMs ran 4-5x slower). Tests are not
# benchmarks, so cap BLAS at one thread here and in the subprocesses the tests start.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# The tests' JAX programs are tiny and compiled once each: XLA's optimisation passes cost more
# than they save (the JAX-heavy files ran 18% faster without them). Results stay within the
# tests' tolerances; benchmarks run fully optimised, outside pytest.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras 3 is an oracle in some tests; JAX is installed
try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
except ImportError:  # pragma: no cover - threadpoolctl is in the test extra
    pass


import pytest  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """One JAX compilation cache for the run, shared by the xdist workers and the subprocesses
    the tests start (they inherit the environment): many tests compile the same small programs,
    and a JAX-heavy slice of the suite ran 14% faster (85 s -> 73 s) from an empty cache. Fresh
    for every run and removed after it; a cache the user set is left alone."""
    if hasattr(config, "workerinput") or "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return  # a worker inherits the controller's; or the user's own
    folder = tempfile.mkdtemp(prefix="scratchlstm-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = folder
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")  # the tests' programs compile fast
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.fixture(autouse=True)
def _no_global_seed_leaks():
    """A test that calls utils.set_random_seed must not fix the weights of later tests."""
    yield
    from scratchlstm._random import set_global_seed

    set_global_seed(None)


@pytest.fixture(autouse=True)
def _no_global_dtype_policy_leaks():
    """A test that sets a mixed-precision global policy must not change the layers of later tests."""
    yield
    from scratchlstm import mixed_precision

    mixed_precision.set_global_policy("float32")


@pytest.fixture
def xla_optimized():
    """XLA's full optimisation passes for one test (this file turns most of them off): for tests
    whose results come from XLA's rewrites, and for the longer JAX training runs, where optimised
    code more than pays for its compile time (a quick example run: 11 s against 18 s)."""
    import jax

    before = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", False)
    yield
    jax.config.update("jax_disable_most_optimizations", before)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (10-25 s each: the docs build, the example runs, multi-process
    training) run first, so that xdist's two workers finish together on the many short tests
    instead of one waiting on the other's last long one (longest first). The order is otherwise
    unchanged."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
