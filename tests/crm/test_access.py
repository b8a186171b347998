"""Every URL the project has refuses anonymous requests. The walk reads the URL resolver, so
a URL added by a later issue is covered without touching this test."""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RoutePattern

# URL names that must answer anonymous visitors, and why.
PUBLIC_URL_NAMES = {
    "login": "the sign-in page itself",
    "admin:login": "the admin's own sign-in page",
    "set_language": "the language switch on the sign-in page",
    "api-token": "clients exchange a password for a token here",
}
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


def _sample(converter) -> str:
    if isinstance(converter, IntConverter):
        return "1"
    if isinstance(converter, UUIDConverter):
        return str(uuid.uuid4())
    return "x"


def _walk(patterns, namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = ":".join(filter(None, [namespace, ns])) if ns else namespace
            yield from _walk(entry.url_patterns, full_ns)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, entry


def _reverse_all():
    urls = {}
    for name, entry in _walk(get_resolver().url_patterns):
        if name in PUBLIC_URL_NAMES or name in urls:
            continue
        if isinstance(entry.pattern, RoutePattern):
            kwargs = {k: _sample(c) for k, c in entry.pattern.converters.items()}
        else:
            kwargs = dict.fromkeys(entry.pattern.regex.groupindex, "1")
        for attempt in (kwargs, dict.fromkeys(kwargs, "x")):
            try:
                urls[name] = reverse(name, kwargs=attempt)
                break
            except Exception:  # noqa: BLE001 (a pattern that rejects the sample; try another)
                continue
    return urls


ALL_URLS = _reverse_all()


def test_walk_covers_the_project():
    # The admin alone has dozens of URLs; the API and the apps add more.
    assert len(ALL_URLS) > 40
    assert "home" in ALL_URLS and "api-schema" in ALL_URLS and "api-me" in ALL_URLS


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ALL_URLS))
def test_anonymous_request_is_refused(client, name):
    url = ALL_URLS[name]
    response = client.get(url)
    if url.startswith("/api/"):
        assert response.status_code in (401, 403), f"{name} {url} -> {response.status_code}"
    else:
        assert response.status_code == 302, f"{name} {url} -> {response.status_code}"
        assert response["Location"].startswith(LOGIN_PATHS), f"{name} -> {response['Location']}"


@pytest.mark.django_db
def test_api_refusal_is_401_with_token_challenge(client):
    response = client.get(reverse("api-me"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.django_db
def test_public_pages_answer(client):
    assert client.get(reverse("login")).status_code == 200
