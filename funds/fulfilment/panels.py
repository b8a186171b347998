"""The project page's agreements panel (crm.core.panels): leads cannot import funds."""

from crm.core.panels import register_panel

from . import selectors, services


def project_panel(request, project) -> dict | None:
    """The project's agreements the reader may open, each with its obligations and their
    traffic lights; the team of a signed project may add one. Nothing for a project that has
    neither an agreement to show nor one to add."""
    agreements = selectors.project_agreements(user=request.user, project=project)
    can_add = project.signed_on is not None and services.can_keep_agreements(request.user,
                                                                             project)
    if not agreements and not can_add:
        return None
    return {"project": project, "agreements": agreements, "can_add": can_add}


register_panel("leads.project", template="fulfilment/_project_panel.html",
               context=project_panel, order=20)
