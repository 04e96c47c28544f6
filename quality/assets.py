"""Data Docs that render offline: the CDN assets of GE's templates, vendored from npm.

GE's pages load Bootstrap, bootstrap-table, jQuery, popper.js, bootstrap-datepicker,
bootstrap-dark, Font Awesome and vega from CDNs, and its logo from S3. Where the Info Mart runs
(an air-gapped contact center) none of them is reachable, so the pages would have no styles and
no scripts. After GE builds the site, :func:`make_offline` copies the packages' files (installed
by ``npm ci --prefix quality/assets`` from the committed lock) into ``<site>/_vendor/<package
path>`` (package layout kept, so Font Awesome's ``../webfonts`` resolve), rewrites every CDN URL
of every page to a path relative to that page, drops ``integrity``/``crossorigin``, and then
checks that no page loads anything from the network. An asset URL it does not know stops it
with a message naming the URL (a GE upgrade that adds one must add it here and to
``package.json``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
NODE_MODULES = ASSETS_DIR / "node_modules"
VENDOR = "_vendor"

#: (CDN folder of GE's templates, the same folder in node_modules, the files GE loads from it);
#: one template says bootstrap-table 1.19.0: the same files as the 1.19.1 of the others
_CDN_FOLDERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/", "bootstrap/dist/", ("css/bootstrap.min.css",)),
    ("https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/", "bootstrap/dist/", ("js/bootstrap.min.js",)),
    (
        "https://unpkg.com/bootstrap-table@1.19.1/dist/",
        "bootstrap-table/dist/",
        (
            "bootstrap-table.min.css",
            "bootstrap-table.min.js",
            "extensions/filter-control/bootstrap-table-filter-control.min.js",
        ),
    ),
    (
        "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/",
        "bootstrap-table/dist/extensions/filter-control/",
        ("bootstrap-table-filter-control.css", "bootstrap-table-filter-control.min.css"),
    ),
    ("https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/", "popper.js/dist/", ("umd/popper.min.js",)),
    (
        "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/",
        "bootstrap-datepicker/dist/",
        ("css/bootstrap-datepicker.min.css", "js/bootstrap-datepicker.min.js"),
    ),
    (
        "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/",
        "@forevolve/bootstrap-dark/",
        ("dist/css/bootstrap-prefers-dark.css",),
    ),
    (
        "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/",
        "@fortawesome/fontawesome-free/",
        ("css/all.min.css",),
    ),
)
#: CDN URL -> the same file in node_modules
CDN_FILES: dict[str, str] = {
    **{cdn + f: npm + f for cdn, npm, files in _CDN_FOLDERS for f in files},
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    # jsDelivr serves a package's "jsdelivr" file for a bare name
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
#: folders the vendored files read relative to themselves
CDN_DIRS = ("@fortawesome/fontawesome-free/webfonts",)
#: GE's images on S3 (with a tracking query): the same images ship in the site's static/images
GE_WEB_ASSETS = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
GE_IMAGES = "static/images"

#: a tag that loads something
_TAG = re.compile(r"<(?:script|link|img|source|iframe)\b[^>]*>", re.IGNORECASE)
_URL_ATTR = re.compile(r"""\b(src|href)\s*=\s*(["'])(https?://[^"']+)\2""", re.IGNORECASE)
_DROP_ATTRS = re.compile(r"""\s+(?:integrity|crossorigin)(?:\s*=\s*(["'])[^"']*\1)?""", re.IGNORECASE)
#: url(...) in inline styles
_CSS_URL = re.compile(r"""url\(\s*(["']?)(https?://[^"')]+)\1\s*\)""", re.IGNORECASE)
#: an <a href> is a link the reader may follow, not something the page loads
_LINK_REL = re.compile(r"""\brel\s*=\s*(["'])[^"']*\b(?:stylesheet|icon|preload|modulepreload)\b""", re.I)


class AssetsError(Exception):
    """The site cannot be made offline; the message says why and what to do."""


def make_offline(site: Path, node_modules: Path = NODE_MODULES) -> int:
    """Vendor the assets into ``site`` and rewrite every page; returns the pages rewritten."""
    _copy_vendor(site, node_modules)
    pages = sorted(site.rglob("*.html"))
    rewritten = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        new = rewrite_page(text, _prefix(site, page), site)
        if new != text:
            page.write_text(new, encoding="utf-8")
            rewritten += 1
    remaining = network_assets(site)
    if remaining:
        raise AssetsError(f"Data Docs still load from the network: {', '.join(remaining[:5])}")
    return rewritten


def rewrite_page(html: str, prefix: str, site: Path) -> str:
    """The page with every CDN asset pointing at ``<prefix>_vendor/...`` (``prefix``: the page's
    way up to the site root, e.g. ``../../``)."""

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        if not _URL_ATTR.search(text) or (text.lower().startswith("<link") and not _LINK_REL.search(text)):
            return text
        text = _URL_ATTR.sub(
            lambda m: f"{m.group(1)}={m.group(2)}{_local(m.group(3), prefix, site)}{m.group(2)}", text
        )
        return _DROP_ATTRS.sub("", text)

    html = _TAG.sub(tag, html)
    return _CSS_URL.sub(lambda m: _css_url(m.group(2), prefix, site), html)


def network_assets(site: Path) -> list[str]:
    """``page: url`` for every asset a page of the site would load from the network."""
    found = []
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        urls = [m.group(2) for m in _CSS_URL.finditer(text)]
        for tag in _TAG.finditer(text):
            t = tag.group(0)
            if t.lower().startswith("<link") and not _LINK_REL.search(t):
                continue
            urls += [m.group(3) for m in _URL_ATTR.finditer(t)]
        found += [f"{page.relative_to(site)}: {url}" for url in urls]
    return found


def _local(url: str, prefix: str, site: Path) -> str:
    if url in CDN_FILES:
        return f"{prefix}{VENDOR}/{CDN_FILES[url]}"
    image = _ge_image(url, site)
    if image is not None:
        return f"{prefix}{image}"
    raise AssetsError(
        f"Data Docs load {url}, which is not vendored: add its npm package to quality/assets/package.json"
        " and its file to CDN_FILES in quality/assets.py"
    )


def _css_url(url: str, prefix: str, site: Path) -> str:
    if url in CDN_FILES:
        return f"url('{prefix}{VENDOR}/{CDN_FILES[url]}')"
    image = _ge_image(url, site)
    if image is not None:
        return f"url('{prefix}{image}')"
    if url.startswith(GE_WEB_ASSETS):  # a decoration GE does not ship (the dark-mode logo)
        return "none"
    raise AssetsError(f"Data Docs styles load {url}, which is not vendored (see quality/assets.py)")


def _ge_image(url: str, site: Path) -> str | None:
    """GE's S3 image as the copy in the site's static/images, if the site has it."""
    if not url.startswith(GE_WEB_ASSETS):
        return None
    name = url[len(GE_WEB_ASSETS) :].split("?")[0]
    return f"{GE_IMAGES}/{name}" if (site / GE_IMAGES / name).is_file() else None


def _prefix(site: Path, page: Path) -> str:
    up = os.path.relpath(site, page.parent)
    return "" if up == "." else up.replace(os.sep, "/") + "/"


def _copy_vendor(site: Path, node_modules: Path) -> None:
    if not node_modules.is_dir():
        raise AssetsError(
            f"{node_modules} is missing: any ./dev command installs the Data Docs assets, or run"
            " `npm ci --prefix quality/assets --no-audit --no-fund`"
        )
    target = site / VENDOR
    for rel in sorted(set(CDN_FILES.values())):
        _copy(node_modules / rel, target / rel)
    for rel in CDN_DIRS:
        for f in _files(node_modules / rel):
            _copy(f, target / f.relative_to(node_modules))


def _files(folder: Path) -> Iterable[Path]:
    if not folder.is_dir():
        raise AssetsError(f"{folder} is missing: run `npm ci --prefix quality/assets` again")
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _copy(source: Path, dest: Path) -> None:
    if not source.is_file():
        raise AssetsError(f"{source} is missing: run `npm ci --prefix quality/assets` again")
    if dest.is_file() and dest.stat().st_size == source.stat().st_size:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
