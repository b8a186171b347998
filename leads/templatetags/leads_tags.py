"""Template filters for records that refer to projects (applications, assignments)."""

from django import template

from leads.models import confidential_name

register = template.Library()


@register.filter
def project_name(project, readable) -> str:
    """The project's name if the reader may open it (the `project_readable` annotation of
    leads.models), else "Confidential project (ID n)"; "—" without a project."""
    if project is None:
        return "—"
    return project.name if readable else confidential_name(project)
