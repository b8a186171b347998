"""The sidebar, assembled from what each app registers in its AppConfig.ready().

The floor cannot import the apps, so apps plug their entries in: a section, a label, a URL
name and the roles that see it (None: everyone signed in).
"""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils import translation

from crm.accounts.roles import user_roles


@dataclass(frozen=True)
class NavEntry:
    section: str
    label: str
    url_name: str
    roles: frozenset[str] | None = None
    order: int = 100
    icon: str = "•"
    badge: str | None = None  # name of a context value holding a count, e.g. "unread_count"
    url_kwargs: tuple[tuple[str, str], ...] = ()  # e.g. (("key", "stages"),) for setup:list


@dataclass
class NavRegistry:
    entries: list[NavEntry] = field(default_factory=list)
    section_order: dict[str, int] = field(default_factory=dict)

    def register(self, entry: NavEntry, *, section_order: int = 100) -> None:
        if entry not in self.entries:
            self.entries.append(entry)
        self.section_order.setdefault(section_key(entry.section), section_order)

    def for_user(self, user, current_path: str) -> list[dict]:
        roles = user_roles(user)
        sections: dict[str, dict] = {}
        links = []
        for entry in sorted(self.entries, key=lambda e: e.order):
            if entry.roles is not None and not (entry.roles & roles):
                continue
            try:
                url = reverse(entry.url_name, kwargs=dict(entry.url_kwargs))
            except NoReverseMatch:
                continue
            key = section_key(entry.section)
            section = sections.setdefault(key, {"key": key, "title": entry.section, "links": []})
            link = {"entry": entry, "url": url, "active": False}
            section["links"].append(link)
            links.append(link)
        # Highlight the one entry whose address is the longest prefix of the current page, so
        # /parks/occupancy/ lights "Occupancy", not also "Parks" (/parks/).
        matches = [link for link in links if link["url"] != "/"
                   and current_path.startswith(link["url"])]
        if matches:
            max(matches, key=lambda link: len(link["url"]))["active"] = True
        return sorted(sections.values(), key=lambda s: self.section_order.get(s["key"], 100))


def section_key(section) -> str:
    """A section's name in no language (its msgid): the sidebar keeps one order whatever the
    reader's language (keyed by the translated name, English readers once got another)."""
    with translation.override(None):
        return str(section)


nav = NavRegistry()
