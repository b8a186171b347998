"""Email backends for fault tests, selected through EMAIL_BACKEND in a worker's environment.
Each message lands in its own file under EMAIL_FILE_PATH, so tests can count what was sent."""

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileBackend


class SlowFileEmailBackend(FileBackend):
    """Takes TEST_EMAIL_DELAY seconds before writing: a stand-in for a slow SMTP server, so a
    test can kill a worker in the middle of a batch."""

    def send_messages(self, email_messages):
        time.sleep(float(os.environ.get("TEST_EMAIL_DELAY", "0")))
        return super().send_messages(email_messages)


class FlakyFileEmailBackend(FileBackend):
    """Fails (as an unreachable SMTP server would) until TEST_EMAIL_FAILURES attempts have
    been made, counted in a file beside the mail, then delivers normally."""

    def send_messages(self, email_messages):
        counter = Path(os.environ["EMAIL_FILE_PATH"]) / ".attempts"
        attempts = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(attempts + 1))
        if attempts < int(os.environ.get("TEST_EMAIL_FAILURES", "0")):
            raise ConnectionRefusedError("SMTP server unreachable (test)")
        return super().send_messages(email_messages)
