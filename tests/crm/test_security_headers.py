"""Content-Security-Policy, Permissions-Policy and the request body cap (issue "Hardening",
item 10): every page is served under a policy with no inline script, its HTML has nothing
that policy would block, and an oversized body is refused before anyone reads it."""

import io
from html.parser import HTMLParser

import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt

from tests.browser import browser_page, login  # noqa: F401 (fixture)
from tests.factories import TEST_PASSWORD, CompanyFactory, make_project


@pytest.fixture
def viewer(make_user):
    """Sees every page in the scan: the admin and the leaders' dashboards."""
    from crm.accounts.roles import Role

    return make_user(Role.ADMINISTRATOR, Role.LEADER, is_staff=True, is_superuser=True)


def _directives(header: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in header.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


class _InlineScan(HTMLParser):
    """Collects what a script-only-from-files policy would block: inline scripts without the
    page's nonce, on*= handler attributes and javascript: URLs."""

    DATA_TYPES = {"application/json", "application/ld+json", "text/template"}

    def __init__(self, nonce: str | None):
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip() \
                    .lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value}>")
        nonced = bool(self.nonce) and attributes.get("nonce") == self.nonce
        if tag == "script" and "src" not in attributes \
                and attributes.get("type") not in self.DATA_TYPES and not nonced:
            self.problems.append("<script> inline without the page's nonce")
        if tag == "style" and not nonced:
            self.problems.append("<style> element without the page's nonce")


def _assert_policed(response):
    assert response.status_code == 200, response.status_code
    policy = _directives(response["Content-Security-Policy"])
    script_src = policy["script-src"]
    assert "'self'" in script_src
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert "'unsafe-inline'" not in policy["style-src-elem"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions
    nonces = [s[len("'nonce-"):-1] for s in script_src if s.startswith("'nonce-")]
    scan = _InlineScan(nonces[0] if nonces else None)
    scan.feed(response.content.decode())
    assert scan.problems == []


@pytest.mark.django_db
def test_every_main_page_is_served_under_the_policy_with_nothing_it_would_block(
        client, viewer, staff_user):
    _assert_policed(client.get(reverse("login")))
    client.force_login(viewer)
    company = CompanyFactory()
    project = make_project(owner=staff_user, company=company)
    for url in (
        reverse("home"),
        reverse("leads:company-list"),
        reverse("leads:company-detail", args=[company.pk]),
        reverse("leads:project-detail", args=[project.pk]),
        reverse("leads:project-board"),
        reverse("parks:occupancy"),
        reverse("dashboards:leader"),
        reverse("notifications:inbox"),
        reverse("admin:index"),
        reverse("admin:leads_company_change", args=[company.pk]),
        reverse("api-docs"),
    ):
        response = client.get(url)
        try:
            _assert_policed(response)
        except AssertionError as error:
            raise AssertionError(f"{url}: {error}") from error


@pytest.mark.django_db
def test_swagger_ui_inline_script_carries_this_responses_nonce(client, viewer):
    client.force_login(viewer)
    first, second = client.get(reverse("api-docs")), client.get(reverse("api-docs"))
    nonce = _directives(first["Content-Security-Policy"])["script-src"][-1]
    assert nonce.startswith("'nonce-")
    assert f'<script nonce="{nonce[7:-1]}">' in first.content.decode()
    # A fresh nonce every response, or it would be no better than 'unsafe-inline'.
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]


def test_the_scan_finds_what_the_policy_would_block():
    scan = _InlineScan("abc")
    scan.feed('<select onchange="x()"></select><script>alert(1)</script>'
              '<script nonce="other">y()</script><a href="javascript:z()">z</a>'
              '<script nonce="abc">ok()</script><script src="/s.js"></script>')
    assert len(scan.problems) == 4


# --- Request body cap ---------------------------------------------------------------------

view_calls: list[str] = []


@csrf_exempt
@login_not_required
def _echo(request):
    view_calls.append(request.method)
    return HttpResponse(str(len(request.body)))


urlpatterns = [path("echo/", _echo)]


class _UnreadableBody(io.RawIOBase):
    """A body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.urls(__name__)
def test_a_body_declared_over_the_cap_is_refused_with_413_unread(client, settings):
    settings.MAX_REQUEST_BODY_SIZE = 1000
    view_calls.clear()
    response = client.generic("POST", "/echo/", "", content_type="application/octet-stream",
                              CONTENT_LENGTH="1001", **{"wsgi.input": _UnreadableBody()})
    assert response.status_code == 413
    assert "1000" in response.content.decode()  # names the limit
    assert view_calls == []


@pytest.mark.urls(__name__)
def test_a_body_at_the_cap_reaches_the_view(client, settings):
    settings.MAX_REQUEST_BODY_SIZE = 1000
    view_calls.clear()
    response = client.generic("POST", "/echo/", b"x" * 1000,
                              content_type="application/octet-stream")
    assert response.status_code == 200
    assert response.content == b"1000"
    assert view_calls == ["POST"]


def test_the_default_cap_is_above_the_upload_limit(settings):
    # A file at the upload limit, plus the multipart form around it, still gets through to
    # the upload check and its friendlier message.
    assert settings.MAX_REQUEST_BODY_SIZE > settings.MAX_UPLOAD_SIZE


# --- In a browser ---------------------------------------------------------------------------

@pytest.mark.browser
def test_pages_raise_no_csp_violation_in_chromium(live_server, browser_page, viewer):  # noqa: F811
    # A context of its own, made here, so that it enforces the policy whatever options the
    # shared fixture's context is given (bypass_csp would hide every violation).
    context = browser_page.context.browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(f"page error: {e}"))

    page.goto(live_server.url + reverse("login"))
    # The language switch, moved from onchange= to app.js, still submits itself.
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert {"django_language": "en"}.items() <= {
        c["name"]: c["value"] for c in page.context.cookies()}.items()
    page.select_option("select[name=language]", "zh-hans")
    page.wait_for_load_state()

    login(page, live_server, viewer.username, TEST_PASSWORD)
    company = CompanyFactory()
    for url in (reverse("home"), reverse("leads:company-list"),
                reverse("leads:company-detail", args=[company.pk]),
                reverse("leads:project-board"), reverse("dashboards:leader"),
                reverse("admin:index"), reverse("admin:leads_company_change", args=[company.pk])):
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
    # Swagger UI builds the whole page from its nonce'd init script: blocked, it stays blank.
    page.goto(live_server.url + reverse("api-docs"))
    page.wait_for_selector(".swagger-ui .info", timeout=20000)
    page.wait_for_load_state("networkidle")
    context.close()
    assert violations == []
