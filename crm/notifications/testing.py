"""Email backends for fault tests, selected through EMAIL_BACKEND in a worker's environment.
Each connection writes its own file under EMAIL_FILE_PATH (a batch's messages share one), so
tests count what was sent by the Message-IDs in them."""

import os
import smtplib
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


class RefusingFileEmailBackend(FileBackend):
    """Answers "451 try again later" (a transient failure) to messages for the address in
    TEST_EMAIL_REFUSE_TO until TEST_EMAIL_FAILURES of them have been refused, counted in a file
    beside the mail; delivers every other message normally."""

    def send_messages(self, email_messages):
        refused = os.environ.get("TEST_EMAIL_REFUSE_TO", "")
        counter = Path(os.environ["EMAIL_FILE_PATH"]) / ".refused"
        for message in email_messages:
            if refused and refused in message.to:
                attempts = int(counter.read_text()) if counter.exists() else 0
                if attempts < int(os.environ.get("TEST_EMAIL_FAILURES", "0")):
                    counter.write_text(str(attempts + 1))
                    raise smtplib.SMTPDataError(451, b"try again later (test)")
        return super().send_messages(email_messages)
