from django.core.exceptions import BadRequest


class ConflictError(Exception):
    """A request that clashes with the current state of the data (a duplicate, an overlap,
    an illegal transition, a budget that would be exceeded). Pages show the message; the API
    answers 409 with it. `existing` names the record it collides with, when there is one."""

    def __init__(self, message, *, existing=None, code: str = "conflict"):
        super().__init__(message)
        self.message = message
        self.existing = existing
        self.code = code


class BadParameter(BadRequest):
    """A query parameter that makes no sense (an offset of "abc", a page of 10^40): a 400 that
    names the parameter, on a page (crm.core.middleware) and in the API (crm.core.api)."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message
