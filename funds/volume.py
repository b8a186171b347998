"""Volume data for benchmarks (`seed_demo --scale N`, N > 1): 200×N fund applications on the
volume companies and projects, each with the transitions that led to its state, written in
bulk after the demo world (see leads/volume.py). Approved ones ask for small amounts so the
demo programmes' budgets still hold. Deterministic."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core.bulk import analyze, bulk_write, reserve_ids
from crm.core.demo import SeedContext, register_seeder
from leads.models import Project
from leads.volume import volume_scale

from .fulfilment import volume as fulfilment_volume  # noqa: F401  (agreements at scale)
from .models import Application, Programme, State, Transition

APPLICATIONS_PER_SCALE = 200
# state -> the states walked through after the draft
PATHS = {
    State.DRAFT: [],
    State.SUBMITTED: [State.SUBMITTED],
    State.NEEDS_SUPPLEMENT: [State.SUBMITTED, State.NEEDS_SUPPLEMENT],
    State.REFUSED: [State.SUBMITTED, State.REFUSED],
    State.ACCEPTED: [State.SUBMITTED, State.ACCEPTED],
    State.UNDER_REVIEW: [State.SUBMITTED, State.ACCEPTED, State.UNDER_REVIEW],
    State.DECLINED: [State.SUBMITTED, State.ACCEPTED, State.UNDER_REVIEW, State.DECLINED],
    State.WITHDRAWN: [State.SUBMITTED, State.WITHDRAWN],
}


@register_seeder("funds-volume", order=70)
def seed_funds_volume(ctx: SeedContext) -> None:
    scale = volume_scale(ctx)
    if scale <= 1 or Application.objects.filter(title__startswith="[V]").exists():
        return
    rng = ctx.rng
    low, high = ctx.shared.get("volume_project_range") or (
        Project.objects.order_by("pk").values_list("pk", flat=True).first(),
        Project.objects.order_by("-pk").values_list("pk", flat=True).first())
    company_of = dict(Project.objects.filter(pk__gte=low, pk__lte=high)
                      .values_list("pk", "company_id"))
    project_ids = list(company_of)
    programmes = list(Programme.objects.order_by("code"))
    staff = list(User.objects.filter(groups__name=Role.INVESTMENT_STAFF)
                 .values_list("pk", flat=True))
    reviewers = list(User.objects.filter(groups__name=Role.FUND_REVIEWER)
                     .values_list("pk", flat=True)) or staff
    states = list(PATHS)
    n = APPLICATIONS_PER_SCALE * scale
    first = reserve_ids(Application, n)
    now = timezone.now()
    rows, transitions = [], []
    for offset in range(n):
        pk = first + offset
        programme = programmes[offset % len(programmes)]
        project = rng.choice(project_ids)
        state = rng.choice(states)
        cap = programme.cap_per_company_yuan or programme.budget_yuan
        amount = (cap * Decimal(rng.choice([10, 20, 35, 50])) / 100).quantize(Decimal("1"))
        drafter = rng.choice(staff)
        moment = now - timedelta(days=rng.randint(20, 400))
        created = moment
        previous = ""
        transitions.append((pk, "", State.DRAFT, drafter, moment, "", None))
        previous = State.DRAFT
        submitted = None
        for step in PATHS[state]:
            moment = min(moment + timedelta(days=rng.randint(1, 15)), now)
            actor = drafter if step in (State.SUBMITTED, State.WITHDRAWN) else rng.choice(
                reviewers)
            transitions.append((pk, previous, step, actor, moment, "", None))
            if step == State.SUBMITTED and submitted is None:
                submitted = moment
            previous = step
        rows.append((pk, programme.pk, company_of[project], project,
                     f"[V] {programme.name} · {project}", amount, None, state, 0, None, None,
                     submitted, moment, drafter, created))
    bulk_write(Application, ["id", "programme_id", "company_id", "project_id", "title",
                             "requested_amount", "approved_amount", "state",
                             "review_step_index", "publicity_start", "publicity_end",
                             "submitted_at", "state_changed_at", "created_by_id", "created_at"],
               rows)
    bulk_write(Transition, ["application_id", "from_state", "to_state", "by_id", "at", "note",
                            "amount"], transitions)
    analyze("funds_application", "funds_transition")
    ctx.log(f"  volume: {len(rows)} fund applications, {len(transitions)} transitions")
