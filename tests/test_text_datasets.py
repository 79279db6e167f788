"""Bundled text datasets: names by language and Tiny Shakespeare, NumPy-only, shipped in the package."""

import fnmatch
import os
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import numpy as np

import scratchlstm
from scratchlstm.data import Vocabulary
from scratchlstm.datasets import Names, dataset_path, load_names, load_tinyshakespeare

REPO = Path(scratchlstm.__file__).resolve().parent.parent


def test_names_counts_and_types():
    data = load_names()
    assert isinstance(data, Names) and isinstance(data.names, list) and isinstance(data.languages, list)
    names, languages, classes = data
    assert len(names) == len(languages) == 20050
    assert all(type(name) is str and name for name in names) and all(type(lang) is str for lang in languages)
    assert classes == sorted(set(languages)) and len(classes) == 18
    counts = Counter(languages)
    assert counts["Russian"] == 9384 and counts["Vietnamese"] == 73 and counts["Portuguese"] == 74
    assert "Portugese" not in counts
    assert (names[0], languages[0]) == ("Khoury", "Arabic")
    assert len(set(zip(names, languages))) == 18013
    labels = data.labels
    assert labels.dtype == np.int64 and labels.shape == (20050,)
    assert [classes[i] for i in labels[:3]] == languages[:3]
    np.testing.assert_array_equal(np.bincount(labels, minlength=18), [counts[c] for c in classes])


def test_names_encode_with_char_vocabulary():
    names = load_names().names
    vocab = Vocabulary("char").fit(names)
    padded = vocab.encode(names, padding="post", pad=True)
    assert padded.shape == (20050, max(map(len, names)))
    assert vocab.decode(padded[:100]) == names[:100]


def test_tinyshakespeare():
    text = load_tinyshakespeare()
    assert type(text) is str and len(text) == 1115394
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert text.isascii() and len(set(text)) == 65
    assert load_tinyshakespeare() == text  # no state between calls


def test_same_types_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` raises ImportError
    assert isinstance(load_names(), Names) and type(load_tinyshakespeare()) is str


def test_files_ship_with_package_data_and_source_note():
    paths = [dataset_path(name) for name in ("names", "tinyshakespeare", "names.csv", "tinyshakespeare.txt.gz")]
    assert [Path(str(p)).name for p in paths] == ["names.csv", "tinyshakespeare.txt.gz"] * 2
    assert all(p.is_file() for p in paths)
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "scratchlstm.datasets"
    ]
    for name in ("names.csv", "tinyshakespeare.txt.gz", "README.md"):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), (name, patterns)
    note = (Path(str(paths[0])).parent / "README.md").read_text()
    assert "pytorch/tutorials, BSD-3-Clause" in note and "karpathy/char-rnn (MIT)" in note


def test_import_pulls_no_pandas_or_jax():
    code = ("import sys, scratchlstm, scratchlstm.data.text, scratchlstm.datasets as d; "
            "d.load_names(); d.load_tinyshakespeare(); scratchlstm.data.Vocabulary('word').fit(['a b']); "
            "heavy = sorted(m for m in ('pandas', 'jax', 'keras', 'tensorflow', 'torch') if m in sys.modules); "
            "print(heavy); sys.exit(1 if heavy else 0)")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, f"importing pulled in {result.stdout.strip()} {result.stderr}"
