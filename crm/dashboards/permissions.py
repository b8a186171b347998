"""Who reads which dashboard: one list per screen, shared by the pages (role_required), the
API (role_permission) and the navigation."""

from crm.accounts.roles import Role

# The leaders' screens (overview, export, monthly return, chain map, and their API) count
# confidential projects and name their owners, so they are for leaders alone. Administrators
# keep the system; they do not read the pipeline's figures.
LEADERS = (Role.LEADER,)
