"""Fonts and icons (issue 17, item 1): the CJK web font and the SVG icons come from npm packages
served by this app, never from an outside host, so a machine without a Chinese font still
reads every character and every nav entry has a drawn icon."""

import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from crm.core.navigation import nav
from crm.core.templatetags.icons import icon_svg
from tests.browser import ARTIFACTS, browser_page, login  # noqa: F401 (fixture)
from tests.factories import TEST_PASSWORD

FONT_FAMILY = "Noto Sans SC"
APP_CSS = "crm/css/app.css"
IMPORT = re.compile(r"""@import\s+url\(\s*["']?([^"')]+)["']?\s*\)""")
URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
FONT_WEIGHT = re.compile(r"font-weight:\s*(\d{3})")


@pytest.fixture
def viewer(make_user):
    """Sees every nav entry: every role, and the admin's."""
    from crm.accounts.roles import Role

    return make_user(*Role.values, is_staff=True, is_superuser=True)


class _Assets(HTMLParser):
    """Every address the page makes the browser fetch: stylesheets, scripts, images, frames."""

    FETCHED = {("link", "href"), ("script", "src"), ("img", "src"), ("source", "src"),
               ("iframe", "src"), ("use", "href"), ("image", "href"), ("object", "data")}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.nav_links: list[dict] = []  # {"label": ..., "svg": bool} per sidebar entry
        self._in_nav_link = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if (tag, name) in self.FETCHED and value:
                self.urls.append(value)
        if tag == "a" and "nav-link" in (attrs.get("class") or "").split():
            self._in_nav_link = True
            self.nav_links.append({"href": attrs["href"], "svg": False})
        elif tag == "svg" and self._in_nav_link:
            self.nav_links[-1]["svg"] = True

    def handle_endtag(self, tag):
        if tag == "a":
            self._in_nav_link = False


def _static_text(path: str) -> str:
    found = finders.find(path)
    assert found, f"{path} is not found by the static finders (run `make assets`)"
    return Path(found).read_text(encoding="utf-8")


def _resolve(css_path: str, url: str) -> str:
    """A url() in the static file css_path, as a static path (what the browser would fetch)."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(css_path), url))


def _font_css_paths() -> list[str]:
    """The font stylesheets app.css imports, as static paths (relative to STATIC_URL)."""
    return [_resolve(APP_CSS, url) for url in IMPORT.findall(_static_text(APP_CSS))]


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_page_fetches_nothing_from_another_host(client_for, viewer):
    response = client_for(viewer).get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    scan = _Assets()
    scan.feed(html)
    assert settings.STATIC_URL + APP_CSS in scan.urls
    outside = [u for u in scan.urls if not u.startswith("/") or u.startswith("//")]
    assert outside == []
    # Not even as text: no address of another host anywhere in the page.
    assert re.findall(r"https?://[^\s\"'<>]+", html) == []


def test_the_stylesheet_imports_the_web_font_from_static_and_puts_it_first():
    css = _static_text(APP_CSS)
    imports = IMPORT.findall(css)
    assert imports and all(not re.match(r"^(https?:)?//", url) for url in imports)
    stack = re.search(r"--font:\s*([^;]+);", css).group(1)
    assert stack.split(",")[0].strip().strip('"') == FONT_FAMILY
    # The chart SVG text and every other rule use the same stack through var(--font).
    assert "font-family: var(--font)" in css


def test_the_font_weights_shipped_are_the_weights_the_css_uses():
    used = set()
    for path in (APP_CSS, "dashboards/dashboards.css"):
        used |= {int(w) for w in FONT_WEIGHT.findall(_static_text(path))}
    used |= {400, 700}  # normal text, and <strong>/<b>/<th> (bold) where no rule says otherwise
    shipped = set()
    for path in _font_css_paths():
        css = _static_text(path)
        assert f"font-family: '{FONT_FAMILY}'" in css
        shipped |= {int(w) for w in FONT_WEIGHT.findall(css)}
    assert shipped == used == {400, 500, 600, 700}


def test_every_font_file_the_font_css_names_is_served_from_static(client):
    font_css = _font_css_paths()
    assert len(font_css) == 4
    for path in font_css:
        files = URL.findall(_static_text(path))
        woff2 = [f for f in files if f.endswith(".woff2")]
        assert len(woff2) > 50  # unicode-range slices: a page loads only the ones it uses
        for name in files:
            assert not re.match(r"^(https?:)?//", name)
            assert finders.find(_resolve(path, name)), name
    # And over HTTP, as the browser fetches them: the stylesheet and one slice of the font.
    response = client.get(settings.STATIC_URL + font_css[0])
    assert response.status_code == 200
    first = _resolve(font_css[0], URL.findall(_body(response).decode())[0])
    font = client.get(settings.STATIC_URL + first)
    assert font.status_code == 200
    assert font["Content-Type"] == "font/woff2"
    assert _body(font)[:4] == b"wOF2"


def test_the_policy_allows_fonts_from_this_origin_only(client):
    header = client.get(reverse("login"))["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}
    assert directives["font-src"] == ["'self'"]


def test_each_nav_entry_renders_an_svg_icon(client_for, viewer):
    response = client_for(viewer).get(reverse("home"))
    scan = _Assets()
    scan.feed(response.content.decode())
    # Every registered entry the viewer may open, plus Home.
    assert len(scan.nav_links) >= len(nav.entries)
    assert [link["href"] for link in scan.nav_links if not link["svg"]] == []


def test_every_registered_icon_is_a_lucide_icon():
    assert nav.entries
    for entry in nav.entries:
        svg = icon_svg(entry.icon)
        assert svg.startswith(f'<svg class="icon icon-{entry.icon}"'), entry
        assert 'stroke="currentColor"' in svg and svg.endswith("</svg>")


@pytest.mark.parametrize("name", ["../../package", "icons/../x", "Inbox", "", "no-such-icon",
                                  "/etc/passwd", "inbox.svg"])
def test_the_icon_tag_reads_only_lucide_icon_files(name):
    assert icon_svg(name) == ""


def test_a_labelled_icon_is_announced_and_a_plain_one_hidden():
    from crm.core.templatetags.icons import icon

    assert 'aria-hidden="true"' in icon("check")
    labelled = icon("x", label='Missing "<b>"')
    assert 'role="img" aria-label="Missing &quot;&lt;b&gt;&quot;"' in labelled
    assert "aria-hidden" not in labelled


# --- In a browser ---------------------------------------------------------------------------

@pytest.mark.browser
def test_the_home_page_draws_its_text_in_the_web_font_and_its_icons(
        live_server, browser_page, leader_user):  # noqa: F811
    page = browser_page
    login(page, live_server, leader_user.username, TEST_PASSWORD)
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    loaded = page.evaluate(
        """[...document.fonts].filter(f => f.status === "loaded")
             .map(f => f.family.replace(/["']/g, "") + " " + f.weight)""")
    assert f"{FONT_FAMILY} 400" in loaded and f"{FONT_FAMILY} 600" in loaded, loaded
    assert page.evaluate(f"""document.fonts.check('16px "{FONT_FAMILY}"', "招商")""")

    # What Chromium actually drew the heading with: the downloaded face, not a system font
    # (the machine may have one: fonts-noto-cjk is installed on the CI image).
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    for selector in ("h1", ".nav-link", ".brand-name"):
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        custom = [f["familyName"] for f in fonts if f["isCustomFont"]]
        assert custom and all(FONT_FAMILY in name for name in custom), (selector, fonts)

    icons = page.locator(".sidebar .nav-link .nav-icon svg")
    assert icons.count() == page.locator(".sidebar .nav-link").count() > 3
    box = icons.first.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (16, 16)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fonts-icons.png"))
