"""The states of a fund application and what the rest of the product needs to know about each:
may the drafter still edit it, does its approved amount count against the budget, whom is it
waiting on, the colour of its badge, is it over. funds/workflow.py declares the moves between
them; this module stands below it (models.py reads the states, the moves' guards read the
models), so nothing imports in a circle.

The actors a state may wait on are named here too; permissions.py says who is who.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

# --- Who acts, and whom a state waits on ------------------------------------------------------
DRAFTER = "drafter"
REVIEWER = "reviewer"
APPROVER = "approver"
SYSTEM = "system"
NOBODY = "nobody"  # waiting on nobody: the publicity runs its course, the money is moving, or
# the application is over



class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_SUPPLEMENT = "needs_supplement", _("Needs supplement")
    REFUSED = "refused", _("Refused at intake")
    ACCEPTED = "accepted", _("Accepted")
    UNDER_REVIEW = "under_review", _("Under review")
    PUBLICITY = "publicity", _("Publicity")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    DISBURSING = "disbursing", _("Disbursing")
    DISBURSED = "disbursed", _("Disbursed")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLAWED_BACK = "clawed_back", _("Clawed back")


@dataclass(frozen=True)
class StateInfo:
    state: str
    editable: bool = False  # the drafter may change it and add documents
    committed: bool = False  # its approved amount counts against the programme's budget
    waiting_on: str = NOBODY  # DRAFTER, REVIEWER or NOBODY: who must act next
    badge: str = "grey"  # the badge colour (badge-<colour> in the stylesheet)
    terminal: bool = False  # over: no move of any kind leaves it

    @property
    def label(self) -> str:
        return State(self.state).label

    @property
    def waits_for_review(self) -> bool:
        return self.waiting_on == REVIEWER


STATES: dict[str, StateInfo] = {info.state: info for info in (
    StateInfo(State.DRAFT, editable=True, waiting_on=DRAFTER),
    StateInfo(State.SUBMITTED, waiting_on=REVIEWER, badge="blue"),
    StateInfo(State.NEEDS_SUPPLEMENT, editable=True, waiting_on=DRAFTER, badge="amber"),
    StateInfo(State.REFUSED, badge="red", terminal=True),
    StateInfo(State.ACCEPTED, waiting_on=REVIEWER, badge="blue"),
    StateInfo(State.UNDER_REVIEW, waiting_on=REVIEWER, badge="blue"),
    StateInfo(State.PUBLICITY, badge="amber"),
    StateInfo(State.APPROVED, committed=True, badge="green"),
    StateInfo(State.DECLINED, badge="red", terminal=True),
    StateInfo(State.DISBURSING, committed=True, badge="green"),
    StateInfo(State.DISBURSED, committed=True, badge="green"),
    # Closed is not terminal: money paid can still be clawed back.
    StateInfo(State.CLOSED, committed=True),
    StateInfo(State.WITHDRAWN, terminal=True),
    # A clawback recovers money, it does not release the approval: the amount stays committed.
    StateInfo(State.CLAWED_BACK, committed=True, badge="red", terminal=True),
)}


# --- State groups, read from the declaration ----------------------------------------------------
def _states(test: Callable[[StateInfo], bool]) -> tuple[str, ...]:
    return tuple(State(info.state) for info in STATES.values() if test(info))


EDITABLE_STATES = _states(lambda info: info.editable)
COMMITTED_STATES = _states(lambda info: info.committed)
# Waiting for a reviewer: the "waiting long" rule (ApplicationQuerySet.waiting_review) counts
# these, and so do the list filter, the reminder and the review dashboard.
WAITING_STATES = _states(lambda info: info.waiting_on == REVIEWER)
TERMINAL_STATES = _states(lambda info: info.terminal)
