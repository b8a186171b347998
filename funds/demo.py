"""Demo programmes of the seed plans (元宇宙产业母基金 and sub-funds, the metaverse special
fund, rent subsidies, 专精特新 awards ...) with applications in every state of the workflow,
made through the real services. Deterministic and idempotent."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db.models import F

from crm import demo_content as people
from crm.accounts.models import User
from crm.core.demo import SeedContext, register_seeder
from leads.models import Project, Stage

from . import demo_content, rules, services
from .fulfilment import demo as fulfilment_demo  # noqa: F401  (registers the agreements seeder)
from .models import Application, Programme, Review, State, Transition

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
# The path to each target state, after the draft (R = reviewer acts, D = drafter acts).
PATHS = {
    State.DRAFT: [],
    State.SUBMITTED: ["submitted"],
    State.NEEDS_SUPPLEMENT: ["submitted", "needs_supplement"],
    State.REFUSED: ["submitted", "refused"],
    State.ACCEPTED: ["submitted", "accepted"],
    State.UNDER_REVIEW: ["submitted", "accepted", "under_review"],
    State.PUBLICITY: ["submitted", "accepted", "under_review", "reviews", "publicity"],
    State.DECLINED: ["submitted", "accepted", "under_review", "declined"],
    State.APPROVED: ["submitted", "accepted", "under_review", "reviews", "publicity_past",
                     "approved"],
    State.DISBURSING: ["submitted", "accepted", "under_review", "reviews", "publicity_past",
                       "approved", "pay_half"],
    State.DISBURSED: ["submitted", "accepted", "under_review", "reviews", "publicity_past",
                      "approved", "pay_all"],
    State.CLOSED: ["submitted", "accepted", "under_review", "reviews", "publicity_past",
                   "approved", "pay_all", "closed"],
    State.CLAWED_BACK: ["submitted", "accepted", "under_review", "reviews", "publicity_past",
                        "approved", "pay_all", "clawback"],
    State.WITHDRAWN: ["submitted", "withdrawn"],
}
NOTES = {"needs_supplement": "请补充近三年审计报告", "refused": "不在申报范围内",
         "declined": "专家评审未通过"}
# An application whose publicity is over was reviewed this long ago (calendar days): long
# enough for a publicity of the programme's working days to have ended before today.
REVIEWED_DAYS_AGO = 21


def _window(spec: dict, today: date) -> tuple[date, date]:
    # Keep the demo's windows open whenever the demo is built.
    start = min(date.fromisoformat(spec["window_start"]), today - timedelta(days=180))
    end = max(date.fromisoformat(spec["window_end"]), today + timedelta(days=60))
    return start, end


@register_seeder("funds", order=40)
def seed_funds(ctx: SeedContext) -> None:
    staff = [User.objects.get(username=u["username"]) for u in people.USERS
             if u["role"] == "investment_staff"]
    reviewers = [User.objects.get(username=u["username"]) for u in people.USERS
                 if u["role"] == "fund_reviewer"]
    for spec in demo_content.PROGRAMMES:
        start, end = _window(spec, ctx.today)
        Programme.objects.get_or_create(code=spec["code"], defaults={
            "name": spec["name"], "department": spec["department"], "year": spec["year"],
            "kind": spec["kind"], "budget_yuan": Decimal(spec["budget_yuan"]),
            "cap_per_company_yuan": Decimal(spec["cap_per_company_yuan"]),
            "window_start": start, "window_end": end,
            "required_documents": spec["required_documents"][:3],
            # One reviewer records one step of an application: the demo office has as many
            # steps as reviewers, and being small, lets the approver be one of them.
            "review_steps": spec["review_steps"][:max(1, len(reviewers))],
            "approver_may_review": True})
    if Application.objects.exists():
        return
    projects = list(Project.objects.filter(stage__kind=Stage.Kind.WON, confidential=False)
                    .select_related("company").order_by("pk"))
    programmes = list(Programme.objects.order_by("code"))
    states = list(PATHS) * 2 * max(1, ctx.scale)
    for index, target in enumerate(states):
        programme = programmes[index % len(programmes)]
        project = projects[index % len(projects)] if projects else None
        if project is None:
            return
        cap = programme.cap_per_company_yuan or programme.budget_yuan
        amount = (cap * Decimal(ctx.rng.choice([20, 35, 50, 60])) / 100).quantize(Decimal("1"))
        drafter = project.owner if project.owner in staff else staff[index % len(staff)]
        reviewer = reviewers[index % len(reviewers)]
        application = services.application_create(
            by=drafter, programme=programme, company=project.company, project=project,
            requested_amount=amount, title=f"{project.company.name}·{programme.name}",
            today=ctx.today)
        for name in programme.required_documents:
            services.document_add(application=application, by=drafter, name=name,
                                  file=ContentFile(MINIMAL_PDF, name=f"{index}.pdf"))
        _walk(ctx, application, PATHS[target], drafter, reviewer, reviewers, amount)


def _walk(ctx, application, path, drafter, reviewer, reviewers, amount):
    today = ctx.today
    approved = (amount * Decimal("0.8")).quantize(Decimal("1"))
    for step in path:
        if step == "reviews":
            for number, _step in enumerate(application.programme.review_steps):
                services.review_record(application=application,
                                       by=reviewers[number % len(reviewers)], decision="pass",
                                       opinion="材料齐全，符合申报条件", score=80 + number * 3)
        elif step == "publicity":
            # From today for the programme's period (the service's defaults).
            services.application_transition(application=application, to=State.PUBLICITY,
                                            by=reviewer)
        elif step == "publicity_past":
            # A publicity that is over: its review ended weeks ago, and it ran from then.
            start = _backdate(application, days=REVIEWED_DAYS_AGO)
            services.application_transition(application=application, to=State.PUBLICITY,
                                            by=reviewer, publicity_start=start)
        elif step == "approved":
            try:
                services.application_transition(application=application, to=State.APPROVED,
                                                by=reviewer, amount=approved)
            except Exception:  # noqa: BLE001 (a demo programme out of budget stays in publicity)
                return
        elif step in ("pay_half", "pay_all"):
            share = approved if step == "pay_all" else (approved / 2).quantize(Decimal("1"))
            tranche = services.disbursement_plan(application=application, by=reviewer,
                                                 amount=share, planned_on=today)
            services.disbursement_pay(disbursement=tranche, by=reviewer, paid_on=today)
            if step == "pay_half":
                services.disbursement_plan(application=application, by=reviewer,
                                           amount=approved - share,
                                           planned_on=today + timedelta(days=90))
        elif step == "clawback":
            services.clawback_record(application=application, by=reviewer,
                                     amount=(approved / 4).quantize(Decimal("1")),
                                     reason="企业未按承诺达产，按协议追回部分补贴")
        else:
            actor = drafter if step in ("submitted", "withdrawn") else reviewer
            services.application_transition(application=application, to=step, by=actor,
                                            note=NOTES.get(step, ""))


def _backdate(application, *, days: int) -> date:
    """Move the application's history so far `days` into the past (demo data only: the
    services stamp every step with the current moment). Returns the day its review ended."""
    shift = timedelta(days=days)
    Transition.objects.filter(application=application).update(at=F("at") - shift)
    Review.objects.filter(application=application).update(at=F("at") - shift)
    Application.objects.filter(pk=application.pk).update(
        state_changed_at=F("state_changed_at") - shift, submitted_at=F("submitted_at") - shift)
    return rules.previous_step_ended(Application.objects.get(pk=application.pk))
