"""Demo companies, projects with their stage histories, and follow-ups (some overdue, some
silent for weeks), built from leads/demo_content.py through the real services, so the demo
obeys the same gates as users do. Deterministic (seeded random) and idempotent."""

from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from crm import demo_content as people
from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core.demo import SeedContext, register_seeder

from . import demo_content, services
from .models import ChainNode, Company, Industry, LostReason, Project, Qualification, Stage
from .uscc import USCC_ALPHABET, make_uscc

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
# How far along the pipeline the demo projects are (stage code, weight).
STAGE_MIX = [
    ("lead", 8), ("screening", 6), ("first_contact", 8), ("site_visit", 8), ("negotiating", 10),
    ("framework", 6), ("signed", 8), ("registered", 6), ("landed", 8), ("started", 5),
    ("producing", 4), ("full_capacity", 2), ("shelved", 3), ("lost", 4),
]
PATH = ["lead", "screening", "first_contact", "site_visit", "negotiating", "framework",
        "signed", "registered", "landed", "started", "producing", "full_capacity"]
DEPARTMENT_NAMES = {code: name for code, name, _en in people.DEPARTMENTS}


def _uscc(ctx: SeedContext, region: str) -> str:
    organisation = "".join(ctx.rng.choice(USCC_ALPHABET) for _ in range(9))
    return make_uscc("91" + (region or "320583") + organisation)


def _variant(name: str, index: int) -> str:
    """Scaled copies of a demo company: 北京灵境视界科技(2)有限公司 ..."""
    if index == 0:
        return name
    for suffix in ("股份有限公司", "有限责任公司", "有限公司"):
        if name.endswith(suffix):
            return f"{name[: -len(suffix)]}({index + 1}){suffix}"
    return f"{name}({index + 1})"


@register_seeder("leads", order=20)
def seed_leads(ctx: SeedContext) -> None:
    stages = {s.code: s for s in Stage.objects.all()}
    nodes = {n.code: n for n in ChainNode.objects.all()}
    divisions = {i.code: i for i in Industry.objects.filter(level=Industry.Level.DIVISION)}
    lost_reasons = list(LostReason.objects.all())
    staff_by_city: dict[str, list[User]] = {}
    for row in people.USERS:
        if row["role"] == Role.INVESTMENT_STAFF:
            staff_by_city.setdefault(row["city"], []).append(
                User.objects.get(username=row["username"]))
    all_staff = [u for users in staff_by_city.values() for u in users]
    park_names = ctx.shared.get("park_names", {})
    mix_codes = [code for code, weight in STAGE_MIX for _ in range(weight)]
    today = ctx.today
    created = 0
    for copy in range(ctx.scale):
        for index, row in enumerate(demo_content.COMPANIES):
            name = _variant(row["name"], copy)
            if Company.objects.filter(name=name).exists():
                continue
            target = stages[mix_codes[(index * 7 + copy * 3) % len(mix_codes)]]
            registered = target.requires_uscc or (row["region"] and ctx.rng.random() < 0.6)
            owner = _owner(ctx, row, staff_by_city, all_staff, copy + index)
            company = services.company_create(
                by=owner, name=name,
                uscc=_uscc(ctx, row["region"]) if registered else None,
                industry=divisions.get(row["industry_division"]),
                registered_capital_wan=Decimal(row["registered_capital_wan"]),
                hq_region_code=row["region"], hq_region_name=row["region_name"],
                source_region=_source_group(row["region"]), website=row["website"],
                chain_links=[(nodes[row["chain_node"]], row["chain_role"])],
                contacts=[{**row["contact"], "is_primary": True}],
                tag_names=["元宇宙"],
            )
            for kind in row["qualifications"]:
                issued = today - timedelta(days=ctx.rng.randint(60, 900))
                services.qualification_add(
                    company=company, by=owner, kind=kind, level=Qualification.Level.PROVINCIAL,
                    certificate_no=f"GR{issued.year}{ctx.rng.randint(10000, 99999)}",
                    issued_on=issued, expires_on=issued + timedelta(days=3 * 365),
                )
            _seed_project(ctx, company, row, target, stages, lost_reasons, park_names, owner)
            created += 1
    ctx.log(f"  {created} companies with projects")


def _source_group(region_code: str) -> str:
    for code, _name, group in demo_content.REGIONS:
        if code == region_code:
            return group
    return "overseas"


def _owner(ctx, row, staff_by_city, all_staff, index):
    city = "南昌" if row["project"]["target_park"].startswith(("nc_", "sr_", "yt_")) else "昆山"
    candidates = staff_by_city.get(city) or all_staff
    return candidates[index % len(candidates)]


def _seed_project(ctx, company, row, target, stages, lost_reasons, park_names, owner):
    spec = row["project"]
    today = ctx.today
    path = PATH[: PATH.index(target.code) + 1] if target.code in PATH else (
        PATH[: ctx.rng.randint(2, 5)] + [target.code])
    # Spread the history backwards from today: roughly 2-6 weeks per stage.
    days_back = sum(ctx.rng.randint(12, 45) for _ in path)
    moment = timezone.now() - timedelta(days=days_back)
    amount = Decimal(spec["agreed_investment_wan"])
    project = services.project_create(
        by=owner, company=company, name=spec["name"], owner=owner, stage=stages[path[0]],
        at=moment,
        channel=spec["channel"],
        agreed_investment_wan=amount,
        fixed_asset_wan=Decimal(spec["fixed_asset_wan"]),
        expected_output_wan=Decimal(spec["expected_output_wan"]),
        expected_tax_wan=Decimal(spec["tax_wan"]),
        expected_jobs=spec["jobs"],
        space_use=spec["space_use"],
        space_min_m2=Decimal(spec["space_min_m2"]), space_max_m2=Decimal(spec["space_max_m2"]),
        move_in_on=today + timedelta(days=ctx.rng.randint(30, 240)),
        intended_park=park_names.get(spec["target_park"], ""),
        next_step="电话回访，确认考察安排", next_step_on=today + timedelta(days=7),
        confidential=ctx.rng.random() < 0.08,
    )
    if any(stages[code].requires_agreement for code in path):
        project.agreement.save(f"agreement-{project.pk}.pdf", ContentFile(MINIMAL_PDF),
                               save=False)
        project.contract_start_on = today + timedelta(days=ctx.rng.randint(-60, 90))
        project.save()
    for code in path[1:]:
        moment += timedelta(days=ctx.rng.randint(12, 45))
        moment = min(moment, timezone.now())
        stage = stages[code]
        services.project_move_stage(
            project=project, to_stage=stage, by=owner, at=moment,
            note=ctx.rng.choice(["", "领导同意推进", "企业确认意向"]),
            lost_reason=ctx.rng.choice(lost_reasons) if stage.kind == Stage.Kind.LOST else None,
        )
    project.refresh_from_db()
    if project.stage.milestone or project.stage.kind == Stage.Kind.WON:
        project.funds_arrived_wan = (amount * Decimal(ctx.rng.randint(10, 90)) / 100).quantize(
            Decimal("0.01"))
        project.save(update_fields=["funds_arrived_wan"])
    _seed_followups(ctx, project, owner)


def _seed_followups(ctx, project: Project, owner) -> None:
    today = ctx.today
    summaries = demo_content.FOLLOWUP_SUMMARIES
    # Some projects went quiet: their last contact is 15-50 days ago (yellow and red flags).
    silent_for = ctx.rng.choice([2, 5, 9, 16, 21, 35, 48])
    count = ctx.rng.randint(1, 4)
    for number in range(count):
        day = today - timedelta(days=silent_for + (count - 1 - number) * ctx.rng.randint(7, 20))
        text = summaries[(project.pk + number) % len(summaries)]
        issue = demo_content.ISSUES_RAISED[(project.pk + number) % len(
            demo_content.ISSUES_RAISED)]
        is_last = number == count - 1
        # Some next steps already lie in the past: overdue.
        next_on = day + timedelta(days=ctx.rng.choice([3, 7, 10, 14, 30]))
        services.followup_create(
            project=project, by=owner, date=day, kind=text["kind"], summary=text["summary"],
            leader_attended=text["leader_attended"],
            their_participants="企业负责人、项目经理",
            next_step=text["next_step"], next_contact_on=next_on if is_last else None,
            issues=[{"description": issue["summary"][:300],
                     "department": DEPARTMENT_NAMES.get(issue["department"], ""),
                     "due_on": day + timedelta(days=issue["due_days"])}]
            if number == 0 and ctx.rng.random() < 0.5 else [],
        )
