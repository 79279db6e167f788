"""MkDocs hooks: MathJax shipped with the site (no CDN), and the internals notebook as a page.

**MathJax.** So that the math renders offline, MathJax 3 is part of the site.

The files come from the installed `django-static-mathjax` package (part of the `docs`
extra): a wheel of static files only, MathJax 3.2.2 under `mathjax/static/mathjax/es5/`,
importable as `mathjax` without Django. Each build adds the parts that `tex-mml-chtml.js`
loads to the site under `javascripts/mathjax/`, where `mkdocs.yml`'s `extra_javascript`
points; MathJax finds its fonts and on-demand TeX extensions next to that script.

**The notebook.** `examples/lstm_internals.ipynb` is stored without outputs; the build adds
it as the page `examples/lstm_internals.ipynb`, and the mkdocs-jupyter plugin (configured in
mkdocs.yml) executes it and renders its outputs, plots included. The notebook stays where
learners find it, next to the other examples.

This file is a hook (`hooks:` in mkdocs.yml), not a page: `exclude_docs` keeps it out of
the site.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

REPOSITORY = Path(__file__).resolve().parents[2]
# read from the repository, not copied into docs/: the page is examples/lstm_internals/
NOTEBOOKS = ["examples/lstm_internals.ipynb"]

SITE_FOLDER = "javascripts/mathjax"
# The combined component, its CHTML fonts, the TeX extensions that autoload fetches when a
# page uses a macro outside the bundled set, and the right-click menu with its a11y parts.
# Not copied: sre/ (3.9 MB, the speech explorer, off unless a reader turns it on).
PARTS = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y")


def mathjax_folder() -> Path:
    """The `es5/` folder of the installed MathJax, or a PluginError naming the extra."""
    spec = importlib.util.find_spec("mathjax")
    locations = (spec.submodule_search_locations or []) if spec is not None else []
    folders = [Path(location) / "static" / "mathjax" / "es5" for location in locations]
    for folder in folders:
        if (folder / "tex-mml-chtml.js").is_file():
            return folder
    raise PluginError(
        "MathJax's files were not found (looked for mathjax/static/mathjax/es5/tex-mml-chtml.js "
        f"in {[str(f) for f in folders] or 'no installed mathjax package'}); "
        'install the docs extra: pip install -e ".[docs]" (it brings django-static-mathjax)'
    )


@event_priority(100)  # before mkdocs-jupyter's on_files, which makes pages of .ipynb files
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add MathJax's files and the notebooks to the site, as if they were in docs/."""
    for uri in NOTEBOOKS:
        if not (REPOSITORY / uri).is_file():
            raise PluginError(f"the notebook {REPOSITORY / uri} is missing")
        # A File with a source folder, not File.generated: mkdocs-jupyter's wrapper finds the
        # path of a generated file as None.
        files.append(File(uri, src_dir=str(REPOSITORY), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    folder = mathjax_folder()
    for part in PARTS:
        path = folder / part
        sources = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        if not sources:
            raise PluginError(f"MathJax's {part} is missing from {folder}; reinstall django-static-mathjax")
        for source in sources:
            uri = f"{SITE_FOLDER}/{source.relative_to(folder).as_posix()}"
            files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files
