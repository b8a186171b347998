"""Demo: this year's working targets (年度工作目标), a quarter of the Kunshan plan's 2022–2025
goals each, so the demo's leaders see progress against a year the demo data lives in. The
plan's own targets (migration 0002) stay as they are."""

from decimal import Decimal

from crm.core.demo import SeedContext, register_seeder

from .models import Target

ANNUAL_SOURCE = "年度工作目标（按《昆山市元宇宙产业创新发展行动计划》分解）"
# (metric, this year's value) — plan goal ÷ 4 years, rounded up
ANNUAL_TARGETS = [
    ("specialised_smes", Decimal("25")),
    ("leading_firms", Decimal("2")),
    ("scenarios", Decimal("4")),
    ("industry_output", Decimal("250")),  # 亿元
]


@register_seeder("dashboards-targets", order=60)
def seed_targets(ctx: SeedContext) -> None:
    year = ctx.today.year
    for order, (metric, value) in enumerate(ANNUAL_TARGETS):
        Target.objects.get_or_create(
            metric=metric, year_from=year, year_to=year, park=None, city="",
            defaults={"value": value, "source": ANNUAL_SOURCE, "order": (order + 1) * 10})
