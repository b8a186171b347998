"""Sections other apps add to a record's page. leads cannot import funds or parks (they
import leads), yet a project's page shows its agreements and a company's its requests: the app
that owns them registers a panel for the page's model here, and the page renders whatever is
registered. Each panel reads through its own app's selectors, so its access rule is its own."""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass(frozen=True)
class Panel:
    model: str  # "leads.project": the page's model, as app_label.model_name
    template: str
    context: Callable  # (request, record) -> dict, or None to show nothing
    order: int = 100


_panels: list[Panel] = []


def register_panel(model: str, *, template: str, context: Callable, order: int = 100) -> None:
    panel = Panel(model=model, template=template, context=context, order=order)
    if panel not in _panels:
        _panels.append(panel)


def panels_for(request, record) -> list[str]:
    """The registered panels of `record`'s page, rendered, in order."""
    label = record._meta.label_lower
    rendered = []
    for panel in sorted((p for p in _panels if p.model == label), key=lambda p: p.order):
        context = panel.context(request, record)
        if context is not None:
            rendered.append(render_to_string(panel.template, context, request=request))
    return rendered
