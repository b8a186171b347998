"""The 2025 goals of the Kunshan metaverse plan (seeds/004, 《昆山市元宇宙产业创新发展行动计划
(2022—2025年)》), loaded as the default targets. Administrators change or add targets in the admin;
the actual of each is computed, never typed.

- 二、发展目标: 培育5家以上领军龙头企业, 打造100家以上元宇宙"专精特新"中小企业, 建成15项以上典型
  应用场景项目, 产业规模达到1000亿元;
- 三、总部基地: 超30万平方米的产业综合体和产业园区 (the parks of 昆山市 in the inventory).
"""

from decimal import Decimal

from django.db import migrations

SOURCE = "昆山市元宇宙产业创新发展行动计划(2022—2025年)"
PLAN_FROM, PLAN_TO = 2022, 2025

# (metric, value in the metric's unit, city scope)
KUNSHAN_TARGETS = [
    ("specialised_smes", Decimal("100"), ""),
    ("leading_firms", Decimal("5"), ""),
    ("scenarios", Decimal("15"), ""),
    ("carrier_area_m2", Decimal("300000"), "昆山市"),
    ("industry_output", Decimal("1000"), ""),  # 亿元
]


def load(apps, schema_editor):
    Target = apps.get_model("dashboards", "Target")
    for order, (metric, value, city) in enumerate(KUNSHAN_TARGETS):
        Target.objects.get_or_create(
            metric=metric, year_from=PLAN_FROM, year_to=PLAN_TO, park=None, city=city,
            defaults={"value": value, "source": SOURCE, "order": (order + 1) * 10},
        )


def unload(apps, schema_editor):
    Target = apps.get_model("dashboards", "Target")
    Target.objects.filter(source=SOURCE, year_from=PLAN_FROM, year_to=PLAN_TO).delete()


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
