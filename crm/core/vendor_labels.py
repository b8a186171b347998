"""Libraries' own strings we translate ourselves: django-axes' admin (the login lockout) ships
no Chinese, and a few of Django's Chinese messages end in a half-width stop ("确认小数不超过 2
位."). Listed here so `make makemessages` keeps them in our catalogue, which Django reads first
(LOCALE_PATHS); they are the libraries' own msgids, never called from our code."""

from django.utils.translation import gettext_noop, ngettext_lazy

AXES_LABELS = [
    gettext_noop("User Agent"), gettext_noop("IP Address"), gettext_noop("Username"),
    gettext_noop("HTTP Accept"), gettext_noop("Path"), gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"), gettext_noop("access failure"),
    gettext_noop("access failures"), gettext_noop("GET Data"), gettext_noop("POST Data"),
    gettext_noop("Failed Logins"), gettext_noop("access attempt"),
    gettext_noop("access attempts"), gettext_noop("Access Attempt"), gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("access attempt expiration"), gettext_noop("access attempt expirations"),
    gettext_noop("Logout Time"), gettext_noop("Session key hash (sha256)"),
    gettext_noop("access log"), gettext_noop("access logs"), gettext_noop("Locked Out"),
    gettext_noop("Form Data"), gettext_noop("Meta Data"),
    gettext_noop("Clean up expired attempts"), gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"), gettext_noop("Axes"),
]

# Django's messages whose Chinese ends in "." or mixes half-width punctuation.
DJANGO_MESSAGES = [
    ngettext_lazy("Ensure that there are no more than %(max)s digit in total.",
                  "Ensure that there are no more than %(max)s digits in total.", "max"),
    ngettext_lazy("Ensure that there are no more than %(max)s decimal place.",
                  "Ensure that there are no more than %(max)s decimal places.", "max"),
    gettext_noop("Please correct the duplicate data for %(field_name)s which must be unique "
                 "for the %(lookup)s in %(date_field)s."),
    gettext_noop("Please correct the duplicate values below."),
    gettext_noop("CSRF verification failed. Request aborted."),
]
