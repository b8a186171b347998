"""The application workflow, declared whole and in one place, as data.

- STATES: every state with what the rest of the product needs to know about it: may the
  drafter still edit it, does its approved amount count against the budget, whom is it
  waiting on, the colour of its badge, is it over.
- MOVES: every (source, target) pair that exists, who makes it, the guard that must hold (it
  raises the reason when it does not) and the effect the move has on the application. Moves
  into disbursing, disbursed and clawed back are *system* moves: recording a payment or a
  clawback makes them (services.disbursement_pay / clawback_record), never a button.

services._move() refuses every pair not declared here, so the table is the workflow, not a
description of it. The state groups other modules use (models.COMMITTED_STATES and
WAITING_STATES, services.EDITABLE_STATES, TRANCHE_STATES, CLAWBACK_STATES), the buttons of the
detail page (selectors.available_moves) and the badges (_state_badge.html via
Application.state_info) are all read from it. Modelled on HyphaApp/hypha's declared workflows
(a phase carries its permissions and display) and saleor's status groups kept beside the
statuses.

Actors: DRAFTER is investment staff with a stake in the application (drafted it, or works on
its project); REVIEWER a fund reviewer with no stake in it; APPROVER a reviewer who, in
addition, recorded none of its review steps unless the programme allows it
(Programme.approver_may_review); SYSTEM the payment and clawback services. permissions.py
says who is who; the services call it.

The states themselves (and the groups read from them) are in states.py, below the models; this
module stands above them, so its guards call rules.py directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from . import rules
from .states import (  # noqa: F401 (the workflow's vocabulary, read from here by its callers)
    APPROVER,
    COMMITTED_STATES,
    DRAFTER,
    EDITABLE_STATES,
    NOBODY,
    REVIEWER,
    STATES,
    SYSTEM,
    TERMINAL_STATES,
    WAITING_STATES,
    State,
    StateInfo,
)

# What a system move follows from (its Move.event): the services that make them say which.
PAYMENT = "payment"
CLAWBACK = "clawback"


# --- A move, and what its guard and effect receive ---------------------------------------------
@dataclass
class Attempt:
    """One try at a move: the application (locked by the service), who tries, when, and what
    they typed. Guards read it; effects change `application`, which the service then saves."""

    application: Any
    by: Any
    today: date
    now: datetime
    note: str = ""
    amount: Decimal | None = None
    publicity_start: date | None = None
    publicity_end: date | None = None


Check = Callable[[Attempt], None]


@dataclass(frozen=True)
class Move:
    sources: tuple[str, ...]
    target: str
    actor: str  # DRAFTER, REVIEWER, APPROVER or SYSTEM
    label: str
    guard: Check | None = None  # raises ConflictError/ValidationError with the reason
    effect: Check | None = None  # what the move changes on the application besides its state
    needs_note: bool = False  # a reason, told to the company
    needs_amount: bool = False  # the approved amount
    asks_publicity: bool = False  # the publicity dates (both optional: defaults apply)
    event: str = ""  # SYSTEM moves: what they follow from (PAYMENT, CLAWBACK)
    style: str = ""  # button style on the screen

    @property
    def system(self) -> bool:
        return self.actor == SYSTEM


# --- Guards and effects -------------------------------------------------------------------------
# The rules that read the database (documents, reviews, budgets) live in rules.py.
def documents_complete(attempt: Attempt) -> None:
    rules.require_documents(attempt.application)


def stamp_submitted(attempt: Attempt) -> None:
    if attempt.application.submitted_at is None:
        attempt.application.submitted_at = attempt.now


def restart_review(attempt: Attempt) -> None:
    attempt.application.review_step_index = 0


def reviews_passed_and_publicity_valid(attempt: Attempt) -> None:
    rules.require_reviews_passed(attempt.application)
    rules.publicity_window(attempt.application, start=attempt.publicity_start,
                           end=attempt.publicity_end, today=attempt.today)


def set_publicity(attempt: Attempt) -> None:
    application = attempt.application
    application.publicity_start, application.publicity_end = rules.publicity_window(
        application, start=attempt.publicity_start, end=attempt.publicity_end,
        today=attempt.today)


def publicity_over_and_money_fits(attempt: Attempt) -> None:
    rules.require_publicity_over(attempt.application, today=attempt.today)
    rules.require_amount_fits(attempt.application, attempt.amount)


def set_approved_amount(attempt: Attempt) -> None:
    attempt.application.approved_amount = attempt.amount


# --- The moves ----------------------------------------------------------------------------------
MOVES: tuple[Move, ...] = (
    Move((State.DRAFT, State.NEEDS_SUPPLEMENT), State.SUBMITTED, DRAFTER, _("Submit"),
         guard=documents_complete, effect=stamp_submitted, style="primary"),
    Move((State.SUBMITTED,), State.ACCEPTED, REVIEWER, _("Accept"), style="primary"),
    Move((State.SUBMITTED,), State.NEEDS_SUPPLEMENT, REVIEWER, _("Ask for a supplement"),
         needs_note=True),
    Move((State.SUBMITTED,), State.REFUSED, REVIEWER, _("Refuse at intake"), needs_note=True,
         style="danger"),
    Move((State.ACCEPTED,), State.UNDER_REVIEW, REVIEWER, _("Start the review"),
         effect=restart_review, style="primary"),
    Move((State.UNDER_REVIEW,), State.PUBLICITY, REVIEWER, _("Start publicity"),
         guard=reviews_passed_and_publicity_valid, effect=set_publicity, asks_publicity=True,
         style="primary"),
    Move((State.UNDER_REVIEW, State.PUBLICITY), State.DECLINED, REVIEWER, _("Decline"),
         needs_note=True, style="danger"),
    Move((State.PUBLICITY,), State.APPROVED, APPROVER, _("Approve"),
         guard=publicity_over_and_money_fits, effect=set_approved_amount, needs_amount=True,
         style="success"),
    Move((State.DISBURSED,), State.CLOSED, REVIEWER, _("Close")),
    Move((State.DRAFT, State.SUBMITTED, State.NEEDS_SUPPLEMENT, State.ACCEPTED,
          State.UNDER_REVIEW), State.WITHDRAWN, DRAFTER, _("Withdraw"), style="danger"),
    # Made by recording payments (services.disbursement_pay): the first tranche paid, or all.
    Move((State.APPROVED,), State.DISBURSING, SYSTEM, _("First tranche paid"), event=PAYMENT),
    Move((State.APPROVED, State.DISBURSING), State.DISBURSED, SYSTEM, _("Paid in full"),
         event=PAYMENT),
    # Made by recording a clawback (services.clawback_record): only money paid comes back.
    Move((State.DISBURSING, State.DISBURSED, State.CLOSED), State.CLAWED_BACK, SYSTEM,
         _("Clawed back"), event=CLAWBACK),
)


def find_move(source: str, target: str) -> Move | None:
    """The declared move from `source` to `target` (manual or system), or None."""
    for move in MOVES:
        if source in move.sources and move.target == target:
            return move
    return None


def moves_from(source: str) -> list[Move]:
    """The moves a person may make from `source` (system moves are never buttons)."""
    return [move for move in MOVES if source in move.sources and not move.system]


# --- State groups the moves define --------------------------------------------------------------
def _sources(event: str) -> tuple[str, ...]:
    sources = {source for move in MOVES if move.event == event for source in move.sources}
    return tuple(State(state) for state in STATES if state in sources)


# Tranches are planned and paid where a payment may still move the application, and money is
# clawed back where a clawback may: both are the sources of the declared system moves.
TRANCHE_STATES = _sources(PAYMENT)
CLAWBACK_STATES = _sources(CLAWBACK)


def declaration_errors() -> list[str]:
    """What is inconsistent in the table (nothing, or the app does not start): every state is
    described once, every pair declared once between described states, a terminal state has
    no way out and every other state has one, and only system moves follow from an event."""
    errors = [f"{state}: no StateInfo" for state in State.values if state not in STATES]
    pairs = [(source, move.target) for move in MOVES for source in move.sources]
    errors += [f"{pair} declared twice" for pair in set(pairs) if pairs.count(pair) > 1]
    errors += [f"{source} is terminal but has a move out" for source, _target in pairs
               if STATES.get(source, StateInfo(source)).terminal]
    leaving = {source for source, _target in pairs}
    errors += [f"{state} has no move out" for state, info in STATES.items()
               if not info.terminal and state not in leaving]
    errors += [f"{move.target}: a system move needs its event, a manual one none"
               for move in MOVES if move.system != bool(move.event)]
    return errors


if declaration_errors():
    raise ImproperlyConfigured("funds.workflow: " + "; ".join(declaration_errors()))
