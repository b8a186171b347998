"""The project page's agreements panel (crm.core.panels): leads cannot import funds."""
