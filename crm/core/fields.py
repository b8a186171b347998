from django.db import models


class HttpsURLField(models.URLField):
    """A URL field whose forms (admin included) add https:// to a bare domain, Django 6's
    default, chosen now: staff type "example.com"."""

    def formfield(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        return super().formfield(**kwargs)
