"""Inline SVG icons from the lucide-static npm package (package.json; `make assets`).

`{% icon "layout-dashboard" %}` renders the icon's <svg> inline, so it takes the text colour
(stroke="currentColor") and needs no extra request. Size and stroke weight are set once, in
app.css (`.icon`), so every icon in the product looks alike.

Only a name from a template or a NavEntry is ever looked up, never user input; the name is
still checked against lucide's file-name alphabet and the file must lie inside the icons
directory. Each file is read once per process and cached.
"""

import logging
import re
from functools import lru_cache
from pathlib import Path

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()
logger = logging.getLogger(__name__)

ICONS_DIR = Path(settings.BASE_DIR) / "node_modules" / "lucide-static" / "icons"
ICON_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# The default rendered size in px; the CSS (.icon) sets the same, this is for pages without it.
ICON_SIZE = 16

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.S)
_INNER_SPACE = re.compile(r">\s+<")


@lru_cache(maxsize=256)
def icon_svg(name: str) -> str:
    """The <svg> of a lucide icon, reduced to its shapes; "" (and a warning) if unknown."""
    path = ICONS_DIR / f"{name}.svg"
    if not ICON_NAME.fullmatch(name) or path.resolve().parent != ICONS_DIR.resolve():
        logger.warning("icon %r: not a lucide icon name", name)
        return ""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        logger.warning("icon %r: %s not found (run `make assets`)", name, path)
        return ""
    match = _SVG_OPEN.search(text)
    if match is None:
        return ""
    body = _INNER_SPACE.sub("><", _COMMENT.sub("", text[match.end():]).strip())
    return (
        # No xmlns: the HTML parser puts an inline <svg> in the SVG namespace by itself.
        f'<svg class="icon icon-{name}" width="{ICON_SIZE}" height="{ICON_SIZE}" '
        'viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" '
        f'stroke-linejoin="round" aria-hidden="true" focusable="false">{body}'
    )


@register.simple_tag
def icon(name, label=""):
    """{% icon "inbox" %}: the inline SVG of a lucide icon, decorative (aria-hidden).

    With label (`{% icon "x" label=_("Missing") %}`) the icon stands for a word, as ✗ did, and
    is announced as an image with that name instead of being hidden from screen readers.
    """
    svg = icon_svg(str(name))
    if svg and label:
        svg = svg.replace(' aria-hidden="true" focusable="false">',
                          format_html(' role="img" aria-label="{}" focusable="false">', label), 1)
    return mark_safe(svg)  # noqa: S308 (our own package file, shapes only; label escaped)
