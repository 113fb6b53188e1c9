"""Fetch the pinned front-end packages from the npm registry into ``static/vendor/`` (``make vendor``).

Kurator runs with no Node and no network: the few files it needs are taken from the published tarballs once,
checked against the registry's integrity hash, and committed. Only the files listed below are extracted, so
the vendored tree stays small. Icons are not shipped as a web font (which carries thousands of glyphs): the
icons the templates use are gathered into one SVG sprite, and ``{% icon %}`` refuses names not listed here.

Run: ``python -m kurator.ui.vendor``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
VENDOR_DIR = Path(__file__).resolve().parent.parent.parent / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    license: str
    # Path inside the tarball (under ``package/``) -> path under the vendored directory.
    files: dict[str, str] = field(default_factory=dict)

    @property
    def directory(self) -> str:
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}"


TABLER_CORE = Package(
    "@tabler/core",
    "1.6.1",
    "MIT",
    {
        "dist/css/tabler.min.css": "css/tabler.min.css",
        "dist/js/tabler.min.js": "js/tabler.min.js",
    },
)
TABLER_ICONS = Package("@tabler/icons", "3.52.0", "MIT", {"LICENSE": "LICENSE"})
# The deal board's drag-and-drop and the report charts (issue 4).
SORTABLE = Package(
    "sortablejs", "1.15.7", "MIT", {"Sortable.min.js": "Sortable.min.js", "LICENSE": "LICENSE"}
)
CHARTJS = Package(
    "chart.js", "4.6.1", "MIT", {"dist/chart.umd.min.js": "chart.umd.min.js", "LICENSE.md": "LICENSE.md"}
)
PACKAGES = (TABLER_CORE, TABLER_ICONS, SORTABLE, CHARTJS)

# The outline icons the templates use; {% icon "name" %} accepts only these.
ICONS = (
    "alert-triangle",
    "arrow-down",
    "arrow-left",
    "arrow-up",
    "arrows-sort",
    "building",
    "building-bank",
    "calendar",
    "cake",
    "check",
    "chevron-right",
    "circle-check",
    "clock",
    "crown",
    "edit",
    "eye",
    "filter",
    "history",
    "id",
    "info-circle",
    "language",
    "list-details",
    "lock",
    "login",
    "logout",
    "mail",
    "map-pin",
    "phone",
    "plus",
    "search",
    "sitemap",
    "star",
    "trash",
    "user",
    "user-check",
    "users",
    "world",
    "x",
    "books",
    "shopping-cart",
    # Inquiries and notifications (issue 3).
    "bell",
    "inbox",
    "settings",
    "checks",
    "ban",
    "copy",
    "chart-bar",
    "hand-stop",
    "user-plus",
    "arrow-right",
    "clock-exclamation",
    "code",
    # Deals, activities, tasks and reminders (issue 4).
    "layout-kanban",
    "briefcase",
    "calendar-event",
    "phone-call",
    "message",
    "notes",
    "list-check",
    "trophy",
    "flag",
    "rss",
    "refresh",
    "chart-funnel",
    "sun",
    "mail-forward",
    "arrows-move",
    "square-check",
    "square",
    "gavel",
    # Contracts, purchases, receivables, solvency and conflicts (issue 5).
    "file-invoice",
    "file-text",
    "file-certificate",
    "cash",
    "coins",
    "receipt",
    "report-money",
    "shield-check",
    "alert-octagon",
    "package",
    "upload",
    "download",
    "scale",
    "chart-pie",
    "calendar-due",
)
SPRITE_NAME = "sprite.svg"


def static_path(package: Package, path: str) -> str:
    """The path of a vendored file for ``{% static %}``."""
    return f"vendor/{package.directory}/{path}"


def _get(url: str) -> bytes:
    if not url.startswith("https://"):
        raise ValueError(f"refusing a non-HTTPS URL: {url}")
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (https only, checked above)
        data: bytes = response.read()
    return data


def _tarball(package: Package) -> bytes:
    meta = json.loads(_get(f"{REGISTRY}/{urllib.parse.quote(package.name, safe='@')}/{package.version}"))
    data = _get(meta["dist"]["tarball"])
    algorithm, _sep, expected = meta["dist"]["integrity"].partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"{package.name}@{package.version}: integrity check failed")
    return data


def _member(archive: tarfile.TarFile, path: str) -> bytes:
    extracted = archive.extractfile(f"package/{path}")
    if extracted is None:
        raise RuntimeError(f"{path} is not a file")
    return extracted.read()


_SVG_OPEN_RE = re.compile(r"<svg\b[^>]*>", re.S)
_SVG_CLOSE_RE = re.compile(r"</svg>\s*$", re.S)


def _symbol(name: str, svg: str) -> str:
    body = _SVG_CLOSE_RE.sub("", _SVG_OPEN_RE.sub("", svg, count=1)).strip()
    body = re.sub(r"\s*\n\s*", "", body)
    # The invisible 24x24 bounding path Tabler adds to every icon is not needed in a sprite.
    body = body.replace('<path stroke="none" d="M0 0h24v24H0z" fill="none" />', "")
    return f'<symbol id="tabler-{name}" viewBox="0 0 24 24">{body}</symbol>'


def build_sprite(archive: tarfile.TarFile) -> str:
    symbols = [_symbol(name, _member(archive, f"icons/outline/{name}.svg").decode()) for name in ICONS]
    return '<svg xmlns="http://www.w3.org/2000/svg">\n' + "\n".join(symbols) + "\n</svg>\n"


def vendor(target: Path = VENDOR_DIR) -> None:
    target.mkdir(parents=True, exist_ok=True)
    keep = {p.directory for p in PACKAGES}
    for existing in target.iterdir():
        if existing.is_dir() and existing.name not in keep:
            shutil.rmtree(existing)  # an older pinned version
    lines = ["# Vendored front-end assets (make vendor). name version license source"]
    for package in PACKAGES:
        print(f"fetching {package.name}@{package.version}", file=sys.stderr)
        data = _tarball(package)
        out = target / package.directory
        if out.exists():
            shutil.rmtree(out)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for source, destination in package.files.items():
                path = out / destination
                path.parent.mkdir(parents=True, exist_ok=True)
                content = _member(archive, source)
                if destination.endswith((".css", ".js")):
                    # The source maps are not shipped; a dangling reference only makes browsers complain.
                    content = re.sub(rb"\n?/[*/]# sourceMappingURL=[^\n]*", b"", content)
                path.write_bytes(content)
            if package is TABLER_ICONS:
                (out / SPRITE_NAME).write_text(build_sprite(archive), encoding="utf-8")
        lines.append(
            f"{package.name} {package.version} {package.license} "
            f"{REGISTRY}/{package.name}/-/{package.name.split('/')[-1]}-{package.version}.tgz"
        )
    (target / "VERSIONS.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"vendored into {target}", file=sys.stderr)


if __name__ == "__main__":
    vendor()
