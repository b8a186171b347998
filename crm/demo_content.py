"""Demo people and responsible departments for the investment-attraction CRM.

Pure data, no Django imports: the ``demo_data`` management command reads these lists.

The world is the one of the two seed documents in ``docs/seeds/``: the Kunshan
Metaverse Industry Innovation Action Plan (2022-2025) and the Jiangxi metaverse opinion
piece (Nanchang 九龙湖元宇宙试验区, 红谷滩VR产业创新中心). Every person below is fictional;
e-mail addresses use reserved ``example.com`` domains.

USERS
    ``username`` (lowercase ASCII), ``full_name`` (Chinese), ``role`` (one of ROLES),
    ``email``, plus two hints for the loader: ``city`` (昆山 / 南昌 / 上饶 / 鹰潭) and
    ``parks`` (park codes from ``parks.demo_content.PARKS`` a park manager looks after;
    empty for everybody else).
DEPARTMENTS
    ``(code, name_zh, name_en)`` of the departments that own companies' requests (诉求);
    ``leads.demo_content.ISSUES_RAISED`` refers to them by ``code``.
"""

ROLES = (
    "investment_staff",
    "park_manager",
    "leader",
    "fund_reviewer",
    "administrator",
)

USERS = [
    # 招商专员 investment staff: three in Kunshan, two in Nanchang.
    {
        "username": "zhang.wei",
        "full_name": "张伟",
        "role": "investment_staff",
        "email": "zhang.wei@ks-invest.example.com",
        "city": "昆山",
        "parks": [],
    },
    {
        "username": "li.na",
        "full_name": "李娜",
        "role": "investment_staff",
        "email": "li.na@ks-invest.example.com",
        "city": "昆山",
        "parks": [],
    },
    {
        "username": "zhou.haoran",
        "full_name": "周浩然",
        "role": "investment_staff",
        "email": "zhou.haoran@ks-invest.example.com",
        "city": "昆山",
        "parks": [],
    },
    {
        "username": "liu.yang",
        "full_name": "刘洋",
        "role": "investment_staff",
        "email": "liu.yang@nc-invest.example.com",
        "city": "南昌",
        "parks": [],
    },
    {
        "username": "hu.xiaomei",
        "full_name": "胡晓梅",
        "role": "investment_staff",
        "email": "hu.xiaomei@nc-invest.example.com",
        "city": "南昌",
        "parks": [],
    },
    # 园区管理员 park managers.
    {
        "username": "wang.jing",
        "full_name": "王静",
        "role": "park_manager",
        "email": "wang.jing@ks-invest.example.com",
        "city": "昆山",
        "parks": ["ks_yunkun"],
    },
    {
        "username": "chen.lei",
        "full_name": "陈磊",
        "role": "park_manager",
        "email": "chen.lei@ks-invest.example.com",
        "city": "昆山",
        "parks": ["ks_metapark"],
    },
    {
        "username": "xu.fang",
        "full_name": "徐芳",
        "role": "park_manager",
        "email": "xu.fang@nc-invest.example.com",
        "city": "南昌",
        "parks": ["nc_jiulong", "nc_honggutan", "sr_digital", "yt_iot"],
    },
    # 领导 leaders.
    {
        "username": "sun.jianguo",
        "full_name": "孙建国",
        "role": "leader",
        "email": "sun.jianguo@ks-invest.example.com",
        "city": "昆山",
        "parks": [],
    },
    {
        "username": "wu.hongmei",
        "full_name": "吴红梅",
        "role": "leader",
        "email": "wu.hongmei@nc-invest.example.com",
        "city": "南昌",
        "parks": [],
    },
    # 资金审核员 fund reviewers.
    {
        "username": "zhao.min",
        "full_name": "赵敏",
        "role": "fund_reviewer",
        "email": "zhao.min@ks-finance.example.com",
        "city": "昆山",
        "parks": [],
    },
    {
        "username": "huang.tao",
        "full_name": "黄涛",
        "role": "fund_reviewer",
        "email": "huang.tao@nc-finance.example.com",
        "city": "南昌",
        "parks": [],
    },
    # 系统管理员 administrator.
    {
        "username": "admin",
        "full_name": "系统管理员",
        "role": "administrator",
        "email": "admin@ks-invest.example.com",
        "city": "昆山",
        "parks": [],
    },
]

DEPARTMENTS = [
    ("amr", "市场监管局", "Administration for Market Regulation"),
    ("nrp", "自然资源和规划局", "Bureau of Natural Resources and Planning"),
    ("hrss", "人社局", "Bureau of Human Resources and Social Security"),
    ("sti", "科技局", "Bureau of Science and Technology"),
    ("miit", "工信局", "Bureau of Industry and Information Technology"),
    ("hurd", "住建局", "Bureau of Housing and Urban-Rural Development"),
    ("tax", "税务局", "Tax Bureau"),
    ("eco", "生态环境局", "Bureau of Ecology and Environment"),
    ("approval", "行政审批局", "Administrative Approval Bureau"),
    ("commerce", "商务局", "Bureau of Commerce"),
    ("finance", "财政局", "Bureau of Finance"),
    ("talent", "人才办", "Talent Work Office"),
    ("power", "供电公司", "State Grid local power supply company"),
]
