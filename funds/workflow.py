"""The application workflow, declared in one place: which state may follow which, who may
make the move, and what it needs. Services, screens and the API all read this table, so an
action button only appears where the service would accept it.

Actors: "drafter" is investment staff working on the application; "reviewer" is a fund
reviewer who did not draft it (conflict of interest). Moves into disbursing, disbursed and
clawed back are made by recording payments and clawbacks, not by hand.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import State

DRAFTER = "drafter"
REVIEWER = "reviewer"
PUBLICITY_DAYS = 7  # 公示期: a week unless the reviewer sets other dates


@dataclass(frozen=True)
class Move:
    sources: tuple[str, ...]
    target: str
    actor: str
    label: str
    needs_note: bool = False
    needs_amount: bool = False
    style: str = ""  # button style on the screen


MOVES: tuple[Move, ...] = (
    Move((State.DRAFT, State.NEEDS_SUPPLEMENT), State.SUBMITTED, DRAFTER, _("Submit"),
         style="primary"),
    Move((State.SUBMITTED,), State.ACCEPTED, REVIEWER, _("Accept"), style="primary"),
    Move((State.SUBMITTED,), State.NEEDS_SUPPLEMENT, REVIEWER, _("Ask for a supplement"),
         needs_note=True),
    Move((State.SUBMITTED,), State.REFUSED, REVIEWER, _("Refuse at intake"), needs_note=True,
         style="danger"),
    Move((State.ACCEPTED,), State.UNDER_REVIEW, REVIEWER, _("Start the review"),
         style="primary"),
    Move((State.UNDER_REVIEW,), State.PUBLICITY, REVIEWER, _("Start publicity"),
         style="primary"),
    Move((State.UNDER_REVIEW, State.PUBLICITY), State.DECLINED, REVIEWER, _("Decline"),
         needs_note=True, style="danger"),
    Move((State.PUBLICITY,), State.APPROVED, REVIEWER, _("Approve"), needs_amount=True,
         style="success"),
    Move((State.DISBURSED,), State.CLOSED, REVIEWER, _("Close")),
    Move((State.DRAFT, State.SUBMITTED, State.NEEDS_SUPPLEMENT, State.ACCEPTED,
          State.UNDER_REVIEW), State.WITHDRAWN, DRAFTER, _("Withdraw"), style="danger"),
)

# Moves the system makes when money moves (services.disbursement_pay / clawback_record).
SYSTEM_MOVES = {
    (State.APPROVED, State.DISBURSING),
    (State.APPROVED, State.DISBURSED),
    (State.DISBURSING, State.DISBURSED),
    (State.DISBURSING, State.CLAWED_BACK),
    (State.DISBURSED, State.CLAWED_BACK),
    (State.CLOSED, State.CLAWED_BACK),
}


def find_move(source: str, target: str) -> Move | None:
    for move in MOVES:
        if source in move.sources and move.target == target:
            return move
    return None


def moves_from(source: str) -> list[Move]:
    return [move for move in MOVES if source in move.sources]
