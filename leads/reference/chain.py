"""The metaverse industry chain (元宇宙产业链) of the Kunshan plan, as data.

Source: 《昆山市元宇宙产业创新发展行动计划(2022—2025年)》 (seeds/004), section 五 发展重点:
(一) six underlying technologies (近眼显示, 感知交互, 内容生产, 先进计算, 网络传输, 数字安全);
(二) software and hardware supply: 核心元器件, 终端外设, 软件工具, 业务运营平台;
(三) application scenarios (数字消费, 行业应用, 政府治理). Child nodes use the names the plan
gives in those paragraphs. The plan targets 15 typical application scenarios, 5 leading firms,
100 specialised SMEs and a chain covering hardware, software, content and applications, which is
why companies and projects are tagged with a node and a role on the chain (补链 analysis).

Positions: the technologies and core components are upstream, devices, software tools and
platforms midstream, application scenarios downstream. A child has its parent's position.
``order`` sorts siblings.
"""

from __future__ import annotations

from typing import TypedDict


class ChainNode(TypedDict):
    code: str
    name_zh: str
    name_en: str
    parent: str | None
    position: str  # "upstream" | "midstream" | "downstream"
    order: int


CHAIN: dict[str, str] = {
    "code": "metaverse",
    "name_zh": "元宇宙产业链",
    "name_en": "Metaverse industry chain",
}

POSITIONS: list[tuple[str, str, str]] = [
    ("upstream", "上游", "Upstream"),
    ("midstream", "中游", "Midstream"),
    ("downstream", "下游", "Downstream"),
]

# (code, name_zh, name_en, parent, position); order is filled in below from the list order
# within each parent.
_NODES: list[tuple[str, str, str, str | None, str]] = [
    # --- 底层技术 (plan 五(一)) ---
    ("display", "近眼显示", "Near-eye display", None, "upstream"),
    ("micro-oled", "硅基OLED", "Micro-OLED (OLED on silicon)", "display", "upstream"),
    ("micro-led", "Micro/Mini LED", "Micro-LED and Mini-LED", "display", "upstream"),
    ("lightfield", "光场与全息显示", "Light-field and holographic display", "display", "upstream"),
    ("sensing", "感知交互", "Sensing and interaction", None, "upstream"),
    ("slam", "空间定位与建图(SLAM)", "Tracking and mapping (SLAM)", "sensing", "upstream"),
    ("eye-tracking", "眼动与手势追踪", "Eye and hand tracking", "sensing", "upstream"),
    (
        "haptics",
        "多感知交互",
        "Multi-sensory interaction (haptics, EMG, brain-computer interfaces)",
        "sensing",
        "upstream",
    ),
    ("content", "内容制作", "Content production", None, "upstream"),
    (
        "modeling",
        "三维重建与数字建模",
        "3D reconstruction and modelling",
        "content",
        "upstream",
    ),
    ("digital-human", "数字人", "Digital humans", "content", "upstream"),
    ("computing", "先进计算", "Advanced computing", None, "upstream"),
    ("network", "网络传输", "Network transmission", None, "upstream"),
    (
        "gigabit",
        "5G/6G与千兆光网",
        "5G/6G and gigabit optical networks",
        "network",
        "upstream",
    ),
    ("edge", "边缘计算与云VR", "Edge computing and cloud VR", "network", "upstream"),
    ("security", "数字安全", "Digital security", None, "upstream"),
    ("blockchain", "区块链", "Blockchain", "security", "upstream"),
    ("privacy", "隐私计算", "Privacy-preserving computation", "security", "upstream"),
    # --- 软硬件产品 (plan 五(二)) ---
    ("components", "核心元器件", "Core components", None, "upstream"),
    (
        "chips",
        "芯片与存储(GPU/DPU/ASIC/FPGA)",
        "Chips and memory (GPU, DPU, ASIC, FPGA)",
        "components",
        "upstream",
    ),
    ("sensors", "智能传感器(MEMS/CMOS)", "Smart sensors (MEMS, CMOS)", "components", "upstream"),
    (
        "optics",
        "光学模组(Pancake、光波导)",
        "Optical modules (pancake optics, waveguides)",
        "components",
        "upstream",
    ),
    ("panels", "显示器件", "Display panels and micro-displays", "components", "upstream"),
    ("devices", "终端设备与外设", "Devices and peripherals", None, "midstream"),
    ("headsets", "VR/AR头戴显示设备", "VR/AR headsets and glasses", "devices", "midstream"),
    (
        "interaction-devices",
        "交互设备",
        "Interaction peripherals (haptic and motion devices)",
        "devices",
        "midstream",
    ),
    (
        "capture-devices",
        "内容采集设备",
        "Content capture devices (motion capture, 360° cameras, 3D scanners)",
        "devices",
        "midstream",
    ),
    (
        "terminals",
        "超高清显示终端",
        "Ultra-HD displays, TVs and computers",
        "devices",
        "midstream",
    ),
    ("software", "软件工具", "Software tools", None, "midstream"),
    (
        "base-software",
        "基础软件(操作系统、中间件)",
        "Base software (operating systems, middleware)",
        "software",
        "midstream",
    ),
    (
        "engines",
        "三维图形引擎与物理引擎",
        "3D graphics, game and physics engines",
        "software",
        "midstream",
    ),
    ("industrial-software", "工业软件", "Industrial software", "software", "midstream"),
    (
        "solutions",
        "行业解决方案(数字孪生、CIM/BIM)",
        "Industry solutions (digital twins, CIM/BIM)",
        "software",
        "midstream",
    ),
    ("platforms", "运营平台", "Operating platforms", None, "midstream"),
    (
        "asset-platforms",
        "数字资产流通平台",
        "Digital asset circulation platforms",
        "platforms",
        "midstream",
    ),
    (
        "content-platforms",
        "内容分发平台",
        "Content distribution and cloud platforms",
        "platforms",
        "midstream",
    ),
    # --- 应用场景 (plan 五(三)) ---
    ("scenarios", "应用场景", "Application scenarios", None, "downstream"),
    ("industrial", "工业元宇宙", "Industrial metaverse", "scenarios", "downstream"),
    (
        "culture-tourism",
        "文娱演艺与文体旅游",
        "Performing arts, culture, sports and tourism",
        "scenarios",
        "downstream",
    ),
    ("media", "传播媒体", "Media and broadcasting", "scenarios", "downstream"),
    ("education", "教育培训", "Education and training", "scenarios", "downstream"),
    ("healthcare", "医疗健康", "Medical and health care", "scenarios", "downstream"),
    ("commerce", "商贸会展", "Commerce and exhibitions", "scenarios", "downstream"),
    (
        "smart-city",
        "智慧城市、智能交通与安全应急",
        "Smart city, intelligent transport and emergency management",
        "scenarios",
        "downstream",
    ),
]


def _with_order(rows: list[tuple[str, str, str, str | None, str]]) -> list[ChainNode]:
    counters: dict[str | None, int] = {}
    nodes: list[ChainNode] = []
    for code, name_zh, name_en, parent, position in rows:
        counters[parent] = counters.get(parent, 0) + 1
        nodes.append(
            ChainNode(
                code=code,
                name_zh=name_zh,
                name_en=name_en,
                parent=parent,
                position=position,
                order=counters[parent] * 10,
            )
        )
    return nodes


# Parents always come before their children, so the list can be loaded in order.
CHAIN_NODES: list[ChainNode] = _with_order(_NODES)

# A company's role on the chain (DOMAIN.md): 链主 is the leading firm that organises the chain,
# 核心配套 a key supplier to it; the others say where on the chain the company sits.
COMPANY_CHAIN_ROLES: list[tuple[str, str, str]] = [
    ("leader", "链主", "Chain leader"),
    ("core", "核心配套", "Core supplier"),
    ("upstream", "上游", "Upstream"),
    ("midstream", "中游", "Midstream"),
    ("downstream", "下游", "Downstream"),
]
