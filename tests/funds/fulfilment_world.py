"""One agreement with known figures, shared by the fulfilment tests (rules, pages, API,
reminders, import). The figures, and what they make of each obligation, are worked out by hand
in the docstring of `agreement_world`, so a test can compare against arithmetic, not against
the code it checks."""

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from crm.accounts.roles import Role
from funds.fulfilment import services
from funds.fulfilment.models import Metric, Remedy
from leads.models import Stage
from leads.services import project_move_stage
from tests.factories import CompanyFactory, make_project

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
D = Decimal


def signed_project(owner, *, confidential=False, name=None, **fields):
    """A project at 正式签约 with the figures and document the later stages' gates ask for."""
    fields.setdefault("agreement", SimpleUploadedFile("协议.pdf", PDF))
    return make_project(owner=owner, stage_code="signed", agreed=D("20000"),
                        confidential=confidential, company=CompanyFactory(),
                        **({"name": name} if name else {}), **fields)


def move(project, code, by, at: datetime.datetime | None = None):
    project_move_stage(project=project, to_stage=Stage.objects.get(code=code), by=by,
                       next_step="回访", next_step_on=datetime.date.today(), at=at)
    project.refresh_from_db()
    return project


def agreement_world(staff, *, project=None, signed_on=datetime.date(2024, 3, 1),
                    grace_days=90):
    """Signed 2024-03-01, 50 亩, committed 20,000 万 of which 15,000 fixed assets, 90 days'
    grace, yearly actuals:

        2024: investment 3,000, fixed 2,500, funds arrived 3,000, tax 100, jobs 50
        2025: investment 5,000, fixed 4,500, funds arrived 4,000, tax 400, jobs 150

    Obligations and what the rules make of them:
    - fixed: fixed-asset investment 9,000 by 2025-12-31. Actual 7,000 (2,500 + 4,500) →
      due soon on 2025-12-01, missed on 2026-01-15, still missed on 2026-03-31 (grace ends),
      breached on 2026-04-01; shortfall 2,000, ratio 2,000 ÷ 9,000 = 0.2222.
    - intensity: 180 万/亩 by 2026-06-30. 7,000 ÷ 50 = 140 → shortfall 40, ratio 0.2222.
    - tax_per_mu: 10 万/亩 a year from 2025. 2025: 400 ÷ 50 = 8 → missed on 2026-01-15,
      breached from 2026-04-01; shortfall 2, ratio 0.2. On 2025-06-01 on track (no year
      ended), due soon from 2025-12-01.
    - jobs: 120 by 2025-12-31. 150 reported at the end of 2025 → met.
    - started: construction started by 2024-12-31 (a milestone, met by a stage event).
    Remedies: proportional clawback (rate 1) on `fixed`, a fixed penalty of 50,000 元 on
    `tax_per_mu`, and withholding of unpaid incentives on any failure.
    """
    project = project or signed_project(staff)
    agreement = services.agreement_create(
        by=staff, project=project, title="投资协议", parties="昆山市人民政府；测试公司",
        signed_on=signed_on, land_mu=D("50"), committed_investment_wan=D("20000"),
        fixed_asset_investment_wan=D("15000"), grace_days=grace_days)
    ob = {
        "fixed": services.obligation_add(agreement=agreement, by=staff,
                                         metric=Metric.FIXED_ASSET_INVESTMENT,
                                         target=D("9000"), due_on=datetime.date(2025, 12, 31)),
        "intensity": services.obligation_add(agreement=agreement, by=staff,
                                             metric=Metric.INVESTMENT_INTENSITY,
                                             target=D("180"),
                                             due_on=datetime.date(2026, 6, 30)),
        "tax_per_mu": services.obligation_add(agreement=agreement, by=staff,
                                              metric=Metric.TAX_PER_MU, target=D("10"),
                                              applies_from=2025),
        "jobs": services.obligation_add(agreement=agreement, by=staff, metric=Metric.JOBS,
                                        target=D("120"), due_on=datetime.date(2025, 12, 31)),
        "started": services.obligation_add(agreement=agreement, by=staff,
                                           metric=Metric.CONSTRUCTION_STARTED,
                                           due_on=datetime.date(2024, 12, 31)),
    }
    for year, inv, fixed, arrived, tax, jobs in ((2024, 3000, 2500, 3000, 100, 50),
                                                 (2025, 5000, 4500, 4000, 400, 150)):
        services.actual_record(agreement=agreement, by=staff,
                               period_start=datetime.date(year, 1, 1),
                               period_end=datetime.date(year, 12, 31), investment_wan=D(inv),
                               fixed_asset_investment_wan=D(fixed), funds_arrived_wan=D(arrived),
                               output_value_wan=D(inv * 2), tax_wan=D(tax), jobs=jobs)
    services.remedy_add(agreement=agreement, by=staff, kind=Remedy.Kind.PROPORTIONAL_CLAWBACK,
                        obligation=ob["fixed"], rate=D("1"))
    services.remedy_add(agreement=agreement, by=staff, kind=Remedy.Kind.FIXED_PENALTY,
                        obligation=ob["tax_per_mu"], amount_yuan=D("50000"))
    services.remedy_add(agreement=agreement, by=staff, kind=Remedy.Kind.WITHHOLD)
    return agreement, ob


def staff_and_leader(make_user):
    return make_user(Role.INVESTMENT_STAFF), make_user(Role.LEADER)
