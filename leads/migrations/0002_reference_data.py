"""Load the reference data a fresh install needs before anyone seeds a demo: GB/T 4754-2017
sections, divisions and the relevant groups, the Kunshan metaverse chain, the default stage
list of DOMAIN.md and the lost reasons. Administrators edit all of these in the admin."""

from django.db import migrations

# (code, name, name_en, kind, probability, milestone, requires_agreement, requires_uscc)
DEFAULT_STAGES = [
    ("lead", "线索", "Lead", "open", 5, "", False, False),
    ("screening", "研判", "Screening", "open", 10, "", False, False),
    ("first_contact", "初步接洽", "First contact", "open", 20, "", False, False),
    ("site_visit", "实地考察", "Site visit", "open", 35, "", False, False),
    ("negotiating", "深度洽谈", "Negotiating", "open", 50, "", False, False),
    ("framework", "意向/框架协议", "Framework signed", "open", 70, "", False, False),
    ("signed", "正式签约", "Contract signed", "won", 90, "signed", True, False),
    ("registered", "注册", "Registered", "won", 95, "registered", True, True),
    ("landed", "入驻/供地", "Space or land secured", "won", 100, "landed", True, True),
    ("started", "开工", "Construction started", "won", 100, "started", True, True),
    ("producing", "投产", "Producing", "won", 100, "producing", True, True),
    ("full_capacity", "达产", "At full capacity", "won", 100, "", True, True),
    ("shelved", "暂缓", "Shelved", "hold", 0, "", False, False),
    ("lost", "终止", "Lost", "lost", 0, "", False, False),
]

LOST_REASONS = [
    ("other_city", "选择其他城市"),
    ("cancelled", "项目取消"),
    ("conditions_not_met", "用地/政策条件不满足"),
    ("funding", "资金不到位"),
    ("strategy_change", "企业战略调整"),
    ("duplicate", "重复录入"),
    ("other", "其他"),
]


def load(apps, schema_editor):
    from leads.reference import chain, industries

    Industry = apps.get_model("leads", "Industry")
    ChainNode = apps.get_model("leads", "ChainNode")
    Stage = apps.get_model("leads", "Stage")
    LostReason = apps.get_model("leads", "LostReason")

    sections = {}
    for code, name, name_en in industries.SECTIONS:
        sections[code], _ = Industry.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "level": "section"}
        )
    divisions = {}
    for code, section, name, name_en in industries.DIVISIONS:
        divisions[code], _ = Industry.objects.update_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "level": "division",
                      "parent": sections[section]},
        )
    for code, division, name, name_en in industries.GROUPS:
        Industry.objects.update_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "level": "group",
                      "parent": divisions[division]},
        )

    nodes = {}
    for index, node in enumerate(chain.CHAIN_NODES):
        nodes[node["code"]], _ = ChainNode.objects.update_or_create(
            code=node["code"],
            defaults={
                "chain": chain.CHAIN["code"], "name": node["name_zh"], "name_en": node["name_en"],
                "parent": nodes.get(node["parent"]) if node["parent"] else None,
                "position": node["position"], "order": index,
            },
        )

    for order, row in enumerate(DEFAULT_STAGES):
        code, name, name_en, kind, probability, milestone, agreement, uscc = row
        Stage.objects.update_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "kind": kind,
                      "probability": probability, "order": (order + 1) * 10,
                      "milestone": milestone, "requires_agreement": agreement,
                      "requires_uscc": uscc},
        )
    for order, (code, name) in enumerate(LOST_REASONS):
        LostReason.objects.update_or_create(code=code, defaults={"name": name,
                                                                 "order": order})


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
