"""Volume data for benchmarks: `seed_demo --scale N` (N > 1) adds 1,000×N companies,
2,000×N projects with 1–6 stage events each, and 10,000×N follow-ups, written in bulk
(crm.core.bulk: COPY on PostgreSQL, batched INSERTs elsewhere), after the demo world is built
once.

Why not through the services: at N = 100 that is 1.3 million rows, hours of one-save-per-row.
The rows still obey the services' invariants: name_key and name_initials as Company.save()
computes them, valid and unique USCCs, a stage history that walks the pipeline to the
project's stage, stage_entered_at = the last move, signed_on = the first signing,
last_contact_on = the latest follow-up, a next step on every open project. History tables
(simple_history) are not filled for volume rows: they are bench data, not audited edits.

Deterministic: everything comes from ctx.rng, so two runs at one scale build one world.
"""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core.bulk import analyze, bulk_write, reserve_ids
from crm.core.demo import SeedContext, register_seeder

from . import demo_content
from .demo import MINIMAL_PDF
from .models import (
    ChainNode,
    ChainRole,
    Company,
    CompanyChainLink,
    FollowUp,
    Industry,
    LostReason,
    Project,
    Stage,
    StageEvent,
)
from .search import pinyin_initials
from .uscc import USCC_ALPHABET, make_uscc, normalize_company_name

COMPANIES_PER_SCALE = 1_000
PROJECTS_PER_SCALE = 2_000
FOLLOWUPS_PER_SCALE = 10_000
VOLUME_AGREEMENT = "agreements/volume/agreement.pdf"  # one shared placeholder document

# Company names come from a small vocabulary, so pinyin initials are computed once per word
# (pypinyin costs ~80 µs a name; at 100,000 names that alone would be 8 s).
CITY_WORDS = ["北京", "上海", "深圳", "杭州", "苏州", "昆山", "南昌", "成都", "武汉", "西安",
              "合肥", "厦门", "广州", "天津", "无锡", "常州", "宁波", "青岛", "长沙", "赣州"]
CORE_WORDS = ["华拓", "云帆", "启明", "数智", "星河", "智汇", "巨擎", "灵境", "视界", "鸿图",
              "创新", "海纳", "腾飞", "远景", "博远", "天成", "恒信", "中科", "新程", "锐思",
              "光年", "未来", "卓越", "云图", "睿达", "同创", "明道", "致远", "汇通", "嘉禾",
              "晨光", "九州", "联创", "精工", "众合", "宏达", "立方", "极光", "磐石", "天越"]
TRADE_WORDS = ["科技", "信息技术", "电子", "光电", "智能制造", "软件", "网络", "数字科技",
               "新材料", "机械", "互动娱乐", "文化传媒", "视听科技", "生物科技", "精密电子",
               "半导体", "物联科技", "新能源", "医疗器械", "动漫", "虚拟现实", "云计算",
               "数据服务", "传感技术", "显示技术"]
SUFFIX = "有限公司"

STAGE_MIX = [
    ("lead", 8), ("screening", 6), ("first_contact", 8), ("site_visit", 8), ("negotiating", 10),
    ("framework", 6), ("signed", 8), ("registered", 6), ("landed", 8), ("started", 5),
    ("producing", 4), ("full_capacity", 2), ("shelved", 3), ("lost", 4),
]
PATH = ["lead", "screening", "first_contact", "site_visit", "negotiating", "framework",
        "signed", "registered", "landed", "started", "producing", "full_capacity"]
CHANNELS = ["roadshow", "delegation", "intermediary", "online", "walkin"]
SPACE_USES = ["office", "rnd", "factory", "warehouse"]
KINDS = ["phone", "visit", "inbound_visit", "site_inspection", "online", "signing"]


def volume_scale(ctx: SeedContext) -> int:
    return ctx.shared.get("volume_scale", 1)


# --- the switch ---------------------------------------------------------------------------------
@register_seeder("volume-switch", order=-100)
def volume_switch(ctx: SeedContext) -> None:
    """At --scale N > 1 the demo world is built once (scale 1, through the services) and the
    volume seeders below add N× bulk rows: multiplying the demo through the services is what
    made large scales take hours."""
    ctx.shared["volume_scale"] = ctx.scale
    ctx.scale = 1


# --- companies, projects, stage events, follow-ups ----------------------------------------------
def _company_names(ctx: SeedContext, count: int, taken: set[str]):
    """`count` distinct (name, name_key, initials) from the vocabulary, in a seeded order."""
    initials = {w: pinyin_initials(w) for w in CITY_WORDS + CORE_WORDS + TRADE_WORDS}
    combos = len(CITY_WORDS) * len(CORE_WORDS) * len(CORE_WORDS) * len(TRADE_WORDS)
    # A coprime stride walks every combination once, in a scrambled order.
    stride = 7_919
    start = ctx.rng.randrange(combos)
    index = 0
    produced = 0
    while produced < count:
        if index >= combos:
            raise RuntimeError("company vocabulary exhausted: add words to leads/volume.py")
        n = (start + index * stride) % combos
        index += 1
        n, trade = divmod(n, len(TRADE_WORDS))
        n, core2 = divmod(n, len(CORE_WORDS))
        city, core1 = divmod(n, len(CORE_WORDS))
        if core1 == core2:
            continue
        words = [CITY_WORDS[city], CORE_WORDS[core1], CORE_WORDS[core2], TRADE_WORDS[trade]]
        name = "".join(words) + SUFFIX
        key = normalize_company_name(name)
        if key in taken:
            continue
        taken.add(key)
        produced += 1
        yield name, key, "".join(initials[w] for w in words) + initials.setdefault(
            SUFFIX, pinyin_initials(SUFFIX))


def _uscc_factory(ctx: SeedContext, taken: set[str]):
    def make(region: str) -> str:
        while True:
            body = "".join(ctx.rng.choice(USCC_ALPHABET) for _ in range(9))
            code = make_uscc("91" + (region or "320583") + body)
            if code not in taken:
                taken.add(code)
                return code
    return make


def _aware(day, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


@register_seeder("leads-volume", order=50)
def seed_leads_volume(ctx: SeedContext) -> None:
    scale = volume_scale(ctx)
    if scale <= 1:
        return
    if Company.objects.filter(notes="volume").exists():
        ctx.log("  volume companies exist already; skipped")
        return
    rng = ctx.rng
    today = ctx.today
    now = datetime.now(UTC)
    stages = {s.code: s for s in Stage.objects.all()}
    lost_reasons = list(LostReason.objects.values_list("pk", flat=True))
    leaves = list(ChainNode.objects.filter(parent__isnull=False).values_list("pk", flat=True))
    divisions = list(Industry.objects.filter(level=Industry.Level.DIVISION)
                     .values_list("pk", flat=True))
    staff = list(User.objects.filter(groups__name=Role.INVESTMENT_STAFF).order_by("pk")
                 .values_list("pk", flat=True))
    roles = [c for c, _label in ChainRole.choices]
    regions = demo_content.REGIONS

    # Companies -------------------------------------------------------------------------------
    n_companies = COMPANIES_PER_SCALE * scale
    taken_keys = set(Company.objects.values_list("name_key", flat=True))
    taken_uscc = set(Company.objects.exclude(uscc=None).values_list("uscc", flat=True))
    uscc = _uscc_factory(ctx, taken_uscc)
    first_company = reserve_ids(Company, n_companies)
    company_ids, registered_ids = [], []
    company_rows = []
    for offset, (name, key, initials) in enumerate(_company_names(ctx, n_companies, taken_keys)):
        pk = first_company + offset
        region_code, region_name, group = regions[rng.randrange(len(regions))]
        registered = rng.random() < 0.8
        created = now - timedelta(days=rng.randint(200, 1500))
        company_ids.append(pk)
        if registered:
            registered_ids.append(pk)
        company_rows.append((
            pk, name, key, initials, uscc(region_code) if registered else None,
            rng.choice(divisions), Decimal(rng.randint(100, 500_000)), "CNY", region_code,
            region_name, group, "", "volume", None, created, created,
        ))
    bulk_write(Company, ["id", "name", "name_key", "name_initials", "uscc", "industry_id",
                         "registered_capital_wan", "capital_currency", "hq_region_code",
                         "hq_region_name", "source_region", "website", "notes",
                         "created_by_id", "created_at", "updated_at"], company_rows)
    del company_rows
    bulk_write(CompanyChainLink, ["company_id", "node_id", "role"],
               ((pk, rng.choice(leaves), rng.choice(roles)) for pk in company_ids))

    # Projects with their stage events ------------------------------------------------------------
    n_projects = PROJECTS_PER_SCALE * scale
    mix = [code for code, weight in STAGE_MIX for _ in range(weight)]
    first_project = reserve_ids(Project, n_projects)
    project_rows, event_rows, open_projects = [], [], []
    project_span = {}  # pk -> (created day, owner) for the follow-ups
    for offset in range(n_projects):
        pk = first_project + offset
        target = rng.choice(mix)
        if target in PATH:
            end = PATH.index(target)
            path = PATH[max(0, end - rng.randint(1, 5)):end + 1]
        else:
            path = PATH[:rng.randint(1, 5)] + [target]
        owner = rng.choice(staff)
        needs_uscc = any(stages[c].requires_uscc for c in path)
        company = rng.choice(registered_ids if needs_uscc else company_ids)
        days_back = sum(rng.randint(12, 45) for _ in path) + rng.randint(0, 200)
        moment = now - timedelta(days=days_back, minutes=rng.randint(0, 600))
        created = moment
        signed_on = None
        previous = previous_moment = None
        lost_reason = None
        reached = None
        for number, code in enumerate(path):
            if number:
                moment = min(moment + timedelta(days=rng.randint(12, 45)), now)
            stage = stages[code]
            if stage.path_order is not None:
                reached = max(reached or 0, stage.path_order)
            reason = rng.choice(lost_reasons) if stage.kind == Stage.Kind.LOST else None
            lost_reason = reason or lost_reason
            if signed_on is None and code in PATH and PATH.index(code) >= PATH.index("signed"):
                signed_on = moment.date()
            event_rows.append((pk, previous, stage.pk, moment, owner,
                               "Project created" if number == 0 else "", reason,
                               previous_moment))
            previous, previous_moment = stage.pk, moment
        final = stages[path[-1]]
        agreed = Decimal(rng.randint(500, 300_000))
        won = final.kind == Stage.Kind.WON
        is_open = final.kind == Stage.Kind.OPEN
        next_on = today + timedelta(days=rng.randint(-20, 30)) if is_open else None
        if is_open:
            open_projects.append(pk)
        use = rng.choice(SPACE_USES)
        space_min = Decimal(rng.randint(2, 60) * 100)
        project_rows.append((
            pk, company, f"{CORE_WORDS[offset % len(CORE_WORDS)]}项目{pk}", owner,
            rng.choice(CHANNELS), "", final.pk, moment, agreed,
            (agreed * Decimal("0.6")).quantize(Decimal("1")),
            (agreed * rng.randint(10, 90) / 100).quantize(Decimal("0.01")) if won
            else Decimal("0"),
            (agreed * Decimal("1.5")).quantize(Decimal("1")),
            (agreed * Decimal("0.05")).quantize(Decimal("1")), rng.randint(10, 800), use,
            space_min, space_min * 2, today + timedelta(days=rng.randint(30, 300)), "",
            "电话回访，确认考察安排" if is_open else "", next_on, None, signed_on,
            signed_on + timedelta(days=rng.randint(30, 200)) if signed_on else None,
            VOLUME_AGREEMENT if any(stages[c].requires_agreement for c in path) else "",
            lost_reason if final.kind == Stage.Kind.LOST else None, rng.random() < 0.08,
            created, moment, created, reached,
        ))
        project_span[pk] = (created.date(), owner)
    project_fields = [
        "id", "company_id", "name", "owner_id", "channel", "referrer", "stage_id",
        "stage_entered_at", "agreed_investment_wan", "fixed_asset_wan", "funds_arrived_wan",
        "expected_output_wan", "expected_tax_wan", "expected_jobs", "space_use", "space_min_m2",
        "space_max_m2", "move_in_on", "intended_park", "next_step", "next_step_on",
        "last_contact_on", "signed_on", "contract_start_on", "agreement", "lost_reason_id",
        "confidential", "created_at", "updated_at", "entered_at", "reached_order",
    ]
    bulk_write(Project, project_fields, project_rows)
    del project_rows
    bulk_write(StageEvent, ["project_id", "from_stage_id", "to_stage_id", "at", "by_id", "note",
                            "lost_reason_id", "previous_at"], event_rows)
    n_events = len(event_rows)
    del event_rows

    # Follow-ups: spread over the projects, each after its project was created ------------------
    n_followups = FOLLOWUPS_PER_SCALE * scale
    summaries = demo_content.FOLLOWUP_SUMMARIES
    project_ids = list(project_span)
    last_contact: dict[int, object] = {}

    def followups():
        for number in range(n_followups):
            pk = project_ids[number % len(project_ids)] if number < len(project_ids) \
                else rng.choice(project_ids)
            created_day, owner = project_span[pk]
            span = max(1, (today - created_day).days)
            day = created_day + timedelta(days=rng.randrange(span))
            text = summaries[number % len(summaries)]
            if day > last_contact.get(pk, created_day - timedelta(days=1)):
                last_contact[pk] = day
            yield (pk, day, text["kind"] if text["kind"] in KINDS else "phone",
                   text["leader_attended"], "企业负责人、项目经理", text["summary"],
                   text["next_step"][:200], None, owner, _aware(day))

    bulk_write(FollowUp, ["project_id", "date", "kind", "leader_attended", "their_participants",
                          "summary", "next_step", "next_contact_on", "created_by_id",
                          "created_at"], followups())
    # last_contact_on = the latest follow-up, set in one UPDATE from the follow-ups themselves.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE leads_project AS p SET last_contact_on = f.last FROM ("
            "  SELECT project_id, MAX(date) AS last FROM leads_followup"
            "  WHERE project_id >= %s GROUP BY project_id) f"
            " WHERE p.id = f.project_id", [first_project])
    _write_agreement_placeholder()
    analyze("leads_company", "leads_project", "leads_stageevent", "leads_followup",
            "leads_companychainlink")
    ctx.shared["volume_company_ids"] = company_ids
    ctx.shared["volume_project_range"] = (first_project, first_project + n_projects - 1)
    ctx.log(f"  volume: {n_companies} companies, {n_projects} projects, {n_events} stage "
            f"events, {n_followups} follow-ups")


def _write_agreement_placeholder() -> None:
    if not default_storage.exists(VOLUME_AGREEMENT):
        default_storage.save(VOLUME_AGREEMENT, ContentFile(MINIMAL_PDF))
