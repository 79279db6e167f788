"""The documentation: every Python example in README.md and docs/*.md runs, and the site builds strictly.

Each page's ```python blocks run in order in one namespace (a later block may use names from
an earlier one), in a temporary working directory. A block right after the line
``<!-- not-run: reason -->`` is skipped (for example multi-host JAX setup); the reason is
required so that skipped examples stay rare and explained.

The strict build needs the ``docs`` extra (mkdocs, mkdocs-material, mkdocstrings[python],
mkdocs-jupyter, django-static-mathjax, and matplotlib for the notebook; the ``test`` extra
brings it); it is skipped when mkdocs is not installed. It executes examples/lstm_internals.ipynb
to render it as a page, and ships MathJax with the site, so that the math renders offline.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]

# A fenced ```python block, optionally preceded by a <!-- not-run: reason --> line.
_BLOCK = re.compile(
    r"(?P<skip><!--\s*not-run:(?P<reason>[^>]*)-->\s*\n)?^```python[^\n]*\n(?P<code>.*?)^```\s*$",
    re.MULTILINE | re.DOTALL,
)


def python_blocks(page: Path) -> list[tuple[int, str, str | None]]:
    """``(line, code, skip_reason)`` for each ```python block of ``page``."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        reason = match.group("reason").strip() if match.group("skip") else None
        blocks.append((line, match.group("code"), reason))
    return blocks


def test_docs_exist_and_have_examples():
    names = {page.relative_to(DOCS).as_posix() for page in PAGES if DOCS in page.parents}
    for required in ("index.md", "input-shapes.md", "math.md", "jax.md", "data.md"):
        assert required in names
    assert sum(len(python_blocks(page)) for page in PAGES) >= 10


@pytest.mark.parametrize(
    "page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_python_examples_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page)
    for _, _, reason in blocks:
        assert reason is None or reason, f"{page.name}: a not-run marker needs a reason"
    if re.search(r"^\s*(import|from) (jax|optax)\b", page.read_text(encoding="utf-8"), re.MULTILINE):
        pytest.importorskip("jax")
        pytest.importorskip("optax")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    x64_before = _jax_x64()
    namespace: dict = {"__name__": "__docs__"}
    try:
        for line, code, reason in blocks:
            if reason is not None:
                continue
            try:
                exec(compile(code, f"{page.relative_to(ROOT)}:{line}", "exec"), namespace)
            except Exception as error:  # name the block, keep the original traceback
                raise AssertionError(f"the example at {page.relative_to(ROOT)}:{line} failed: {error!r}") from error
    finally:
        _restore_jax_x64(x64_before)


def _jax_x64():
    """JAX's 64-bit flag now, or None when JAX has not been imported."""
    jax = sys.modules.get("jax")
    return None if jax is None else bool(jax.config.jax_enable_x64)


def _restore_jax_x64(before) -> None:
    """Undo a page's ``jax.config.update("jax_enable_x64", True)`` for the other tests."""
    jax = sys.modules.get("jax")
    if jax is not None:
        default = os.environ.get("JAX_ENABLE_X64", "").lower() in ("1", "true")
        jax.config.update("jax_enable_x64", default if before is None else before)


# A Markdown heading line, outside fenced code blocks.
_HEADING = re.compile(r"^#{1,6} .*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```\s*$", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_headings_have_no_tex(page):
    # The table of contents shows a heading's text as is: TeX there reads as raw backslashes.
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    with_tex = [h for h in _HEADING.findall(text) if re.search(r"\$|\\\(|\\\[", h)]
    assert not with_tex, f"{page.name}: TeX in headings {with_tex}; write them in words or `code`"


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    pytest.importorskip("material")
    pytest.importorskip("mkdocs_jupyter")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    site = tmp_path / "site"

    # The math: MathJax comes with the site, no page loads a script from elsewhere.
    math = (site / "math" / "index.html").read_text(encoding="utf-8")
    assert 'class="arithmatex"' in math
    assert '<script src="../javascripts/mathjax/tex-mml-chtml.js">' in math
    mathjax = site / "javascripts" / "mathjax"
    assert (mathjax / "tex-mml-chtml.js").stat().st_size > 500_000
    assert list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("MathJax_Main-Regular.woff"))
    assert (mathjax / "input" / "tex" / "extensions" / "boldsymbol.js").is_file()  # autoload's files
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        sources = re.findall(r"<script[^>]*\ssrc=\"([^\"]*)\"", html)
        remote = [src for src in sources if re.match(r"(https?:)?//", src)]
        assert not remote, f"{page.relative_to(site)} loads scripts from elsewhere: {remote}"
        fetched = [tag for tag in re.findall(r"<link\b[^>]*>", html)  # stylesheets, fonts, icons
                   if re.search(r"\srel=\"(stylesheet|preload|modulepreload|icon)\"", tag)
                   and re.search(r"\shref=\"(https?:)?//", tag)]
        assert not fetched, f"{page.relative_to(site)} loads files from elsewhere: {fetched}"
        assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html, page.relative_to(site)
    assert not list(site.rglob("*.py")), "a build hook was copied into the site"

    # The notebook, executed at build time: its printed numbers and its plots are on the page.
    notebook = (site / "examples" / "lstm_internals" / "index.html").read_text(encoding="utf-8")
    assert "Inside a trained LSTM" in notebook
    assert re.search(r"validation MAE, degrees C: LSTM [\d.]+ \| persistence [\d.]+", notebook)
    assert "Epoch 30/30 - " in notebook                     # fit's verbose=2 lines
    assert notebook.count("data:image/png;base64,") >= 3    # gates, gradient norms, ...
    assert (site / "examples" / "lstm_internals" / "lstm_internals.ipynb").is_file()  # to download


def _requirements(extra: str | None) -> set[str]:
    """The distributions ``pip install ".[extra]"`` names: the core dependencies and the extra's,
    following ``scratchlstm[...]`` references (normalised names, no versions)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names, todo, seen = set(), [extra] if extra else [], set()
    for requirement in project["dependencies"]:
        names.add(re.split(r"[<>=!~;\[ ]", requirement)[0].lower().replace("_", "-"))
    while todo:
        current = todo.pop()
        seen.add(current)
        for requirement in project["optional-dependencies"][current]:
            name = re.split(r"[<>=!~;\[ ]", requirement)[0].lower().replace("_", "-")
            if name == "scratchlstm":
                todo += [e.strip() for e in re.search(r"\[(.*)\]", requirement).group(1).split(",")
                         if e.strip() not in seen]
            else:
                names.add(name)
    return names


def _notebook_imports() -> set[str]:
    """Top-level modules the internals notebook imports unconditionally (outside try/if)."""
    import ast
    import json

    notebook = json.loads((ROOT / "examples" / "lstm_internals.ipynb").read_text(encoding="utf-8"))
    modules = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(line for line in "".join(cell["source"]).splitlines()
                         if not line.lstrip().startswith(("%", "!")))  # IPython magics
        for node in ast.parse(code).body:
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"scratchlstm"}


@functools.lru_cache(maxsize=1)
def _notebook_needs() -> dict[str, frozenset[str]]:
    """``{module: the distributions that provide it}`` for the notebook's imports (read once: ~1 s)."""
    import importlib.metadata

    providers = importlib.metadata.packages_distributions()
    return {module: frozenset(name.lower().replace("_", "-") for name in providers.get(module, [module]))
            for module in _notebook_imports()}


@pytest.mark.parametrize("extra", ["docs", "notebook", "test"])
def test_extras_install_what_the_notebook_needs(extra):
    # The docs build executes the notebook: `pip install -e ".[docs]" && mkdocs build --strict`
    # (the README's docs row) failed in a fresh environment on `import matplotlib`.
    needed = _notebook_needs()
    assert "matplotlib" in needed
    missing = {module for module, names in needed.items() if not names & _requirements(extra)}
    assert not missing, f'pip install ".[{extra}]" does not bring what the notebook imports: {missing}'


def test_the_test_extra_brings_the_docs_build_and_the_readme_says_how_to_open_the_notebook():
    assert _requirements("docs") <= _requirements("test")  # the README's test command builds the docs
    assert {"jupyterlab", "ipykernel"} <= _requirements("notebook")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r'pip install -e "\.\[notebook\]" && jupyter lab examples/lstm_internals\.ipynb', readme)
