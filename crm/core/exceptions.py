class ConflictError(Exception):
    """A request that clashes with the current state of the data (a duplicate, an overlap,
    an illegal transition, a budget that would be exceeded). Pages show the message; the API
    answers 409 with it. `existing` names the record it collides with, when there is one."""

    def __init__(self, message, *, existing=None, code: str = "conflict"):
        super().__init__(message)
        self.message = message
        self.existing = existing
        self.code = code
