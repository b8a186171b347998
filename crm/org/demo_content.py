"""The demo's organisation, from the Kunshan action plan (docs/seeds/004_*.txt): a leading group
(领导小组) whose office sits in the industry bureau, six 专班 work teams under it, the districts
and parks where projects are pursued, and the departments that resolve what companies ask for.
Nanchang, the demo's second city, has its own small tree. Pure data, no Django imports.

Each unit: (code, name, English name, kind, parent code or None).
"""

UNITS = [
    ("kunshan", "昆山市", "Kunshan", "city", None),
    ("ks-hightech", "昆山高新区", "Kunshan Hi-tech Zone", "district", "kunshan"),
    ("ks-huaqiao", "花桥经济开发区", "Huaqiao Economic Development Zone", "district", "kunshan"),
    ("ks-yunkun", "云昆大厦(昆山元宇宙总部基地)", "Yunkun Tower", "park", "ks-hightech"),
    ("ks-metapark", "昆山元宇宙产业园", "Kunshan Metaverse Industrial Park", "park", "ks-hightech"),
    ("ks-leading-group", "昆山市元宇宙产业创新发展领导小组", "Metaverse Leading Group",
     "leading_group", "kunshan"),
    ("team-ecosystem", "元宇宙创新生态专班", "Innovation Ecosystem Team", "team",
     "ks-leading-group"),
    ("team-industrial", "工业元宇宙专班", "Industrial Metaverse Team", "team", "ks-leading-group"),
    ("team-culture", "文体旅元宇宙专班", "Culture, Sports and Tourism Team", "team",
     "ks-leading-group"),
    ("team-smart-city", "智慧城市元宇宙专班", "Smart City Team", "team", "ks-leading-group"),
    ("team-education-health", "教育卫生元宇宙专班", "Education and Health Team", "team",
     "ks-leading-group"),
    ("team-commerce", "商业服务元宇宙专班", "Commercial Services Team", "team",
     "ks-leading-group"),
    ("dept-commerce", "昆山市商务局", "Commerce Bureau", "department", "kunshan"),
    ("dept-industry", "昆山市工业和信息化局", "Industry and IT Bureau", "department", "kunshan"),
    ("dept-land", "昆山市自然资源和规划局", "Natural Resources and Planning Bureau", "department",
     "kunshan"),
    ("dept-housing", "昆山市住房和城乡建设局", "Housing and Construction Bureau", "department",
     "kunshan"),
    ("dept-hr", "昆山市人力资源和社会保障局", "Human Resources and Social Security Bureau",
     "department", "kunshan"),
    ("dept-tax", "国家税务总局昆山市税务局", "Kunshan Tax Bureau", "department", "kunshan"),
    ("nanchang", "南昌市", "Nanchang", "city", None),
    ("nc-honggutan", "红谷滩区", "Honggutan District", "district", "nanchang"),
]

# Each demo user's place: (username, unit code, position, data scope). Staff see their own
# projects (and their 专班's), as before units; park managers, reviewers and the
# administrator see every project that is not confidential (matching space and reviewing
# funds need them); each city's leader sees their city, confidential projects included.
MEMBERSHIPS = [
    ("zhang.wei", "ks-hightech", "member", "own"),
    ("zhang.wei", "team-industrial", "member", "team"),
    ("li.na", "ks-hightech", "member", "own"),
    ("zhou.haoran", "ks-huaqiao", "member", "own"),
    ("zhou.haoran", "team-commerce", "member", "team"),
    ("liu.yang", "nc-honggutan", "member", "own"),
    ("hu.xiaomei", "nc-honggutan", "member", "own"),
    ("wang.jing", "ks-yunkun", "head", "all"),
    ("chen.lei", "ks-metapark", "head", "all"),
    ("xu.fang", "nc-honggutan", "member", "all"),
    ("sun.jianguo", "kunshan", "head", "unit"),
    ("sun.jianguo", "ks-leading-group", "head", "unit"),
    ("wu.hongmei", "nanchang", "head", "unit"),
    ("zhao.min", "dept-industry", "member", "all"),
    ("huang.tao", "nanchang", "member", "all"),
    ("admin", "kunshan", "member", "all"),
]
