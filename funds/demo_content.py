"""Demo fund and subsidy programmes (资金 / 政策) for the investment-attraction CRM.

Pure data, no Django imports: the ``demo_data`` management command reads ``PROGRAMMES``.

The programmes follow the two seed documents in ``docs/seeds/``:

* Kunshan Metaverse Industry Innovation Action Plan (2022-2025): "用好产业发展基金",
  "用足用好元宇宙产业投资子基金" (七(二) 加大政策支持), support for 100+ 专精特新 SMEs,
  15+ typical application-scenario projects, and the 30万㎡ carriers of the headquarters
  base (云昆大厦 and 元宇宙产业园), which the rent subsidy serves.
* Jiangxi opinion piece: the provincial industrial guidance fund investing in metaverse
  sub-funds "采用'母基金+直投'的方式", focused on early-stage and long-term investment.

Amounts, caps, windows and document lists are illustrative.

Each programme: ``code``, ``name``, ``department``, ``year``, ``kind`` (subsidy |
special_fund | mother_fund | sub_fund | direct_investment), ``budget_yuan`` and
``cap_per_company_yuan`` (decimal strings, 元), ``window_start`` / ``window_end``
(ISO dates), ``required_documents`` (Chinese document names) and ``review_steps``
(ordered, among first_review, second_review, expert_review, site_check).
"""

PROGRAMMES = [
    {
        "code": "ks_meta_mother_fund",
        "name": "昆山市元宇宙产业母基金",
        "department": "昆山市财政局",
        "year": 2026,
        "kind": "mother_fund",
        "budget_yuan": "2000000000.00",
        "cap_per_company_yuan": "200000000.00",
        "window_start": "2026-03-01",
        "window_end": "2026-12-31",
        "required_documents": [
            "营业执照",
            "子基金设立方案",
            "基金管理人登记备案证明",
            "管理团队简历及业绩",
            "近三年财务审计报告",
            "合伙协议(草案)",
        ],
        "review_steps": ["first_review", "expert_review", "site_check"],
    },
    {
        "code": "ks_meta_sub_fund_1",
        "name": "昆山元宇宙产业投资子基金(一期)",
        "department": "昆山市工业和信息化局",
        "year": 2026,
        "kind": "sub_fund",
        "budget_yuan": "500000000.00",
        "cap_per_company_yuan": "50000000.00",
        "window_start": "2026-03-01",
        "window_end": "2026-12-31",
        "required_documents": [
            "营业执照",
            "商业计划书",
            "近三年财务审计报告",
            "股权结构说明",
            "知识产权证明材料",
            "投资意向书",
        ],
        "review_steps": ["first_review", "expert_review", "site_check"],
    },
    {
        "code": "jx_meta_early_sub_fund",
        "name": "江西省元宇宙早期投资子基金",
        "department": "江西省工业和信息化厅",
        "year": 2026,
        "kind": "sub_fund",
        "budget_yuan": "300000000.00",
        "cap_per_company_yuan": "20000000.00",
        "window_start": "2026-03-01",
        "window_end": "2026-12-31",
        "required_documents": [
            "营业执照",
            "商业计划书",
            "近两年财务报表",
            "股权结构说明",
            "核心团队简历",
            "知识产权证明材料",
        ],
        "review_steps": ["first_review", "expert_review", "site_check"],
    },
    {
        "code": "jx_guidance_direct",
        "name": "江西省工业产业引导基金元宇宙直投",
        "department": "江西省工业和信息化厅",
        "year": 2026,
        "kind": "direct_investment",
        "budget_yuan": "400000000.00",
        "cap_per_company_yuan": "80000000.00",
        "window_start": "2026-03-01",
        "window_end": "2026-12-31",
        "required_documents": [
            "营业执照",
            "项目申报书",
            "可行性研究报告",
            "近三年财务审计报告",
            "投资协议(草案)",
            "落户承诺书",
        ],
        "review_steps": ["first_review", "second_review", "expert_review", "site_check"],
    },
    {
        "code": "ks_meta_special_fund",
        "name": "昆山市元宇宙产业发展专项资金",
        "department": "昆山市工业和信息化局",
        "year": 2026,
        "kind": "special_fund",
        "budget_yuan": "50000000.00",
        "cap_per_company_yuan": "5000000.00",
        "window_start": "2026-03-01",
        "window_end": "2026-12-31",
        "required_documents": [
            "营业执照",
            "项目申报书",
            "上年度财务审计报告",
            "项目投资发票及付款凭证",
            "信用承诺书",
        ],
        "review_steps": ["first_review", "second_review", "expert_review"],
    },
    {
        "code": "ks_rent_subsidy",
        "name": "元宇宙总部基地租金补贴",
        "department": "昆山市财政局",
        "year": 2026,
        "kind": "subsidy",
        "budget_yuan": "12000000.00",
        "cap_per_company_yuan": "600000.00",
        "window_start": "2026-03-01",
        "window_end": "2026-12-31",
        "required_documents": [
            "营业执照",
            "租赁合同",
            "租金支付凭证及发票",
            "社保缴纳证明",
            "信用承诺书",
        ],
        "review_steps": ["first_review", "second_review", "site_check"],
    },
    {
        "code": "ks_specialised_award",
        "name": "元宇宙专精特新企业奖励",
        "department": "昆山市工业和信息化局",
        "year": 2026,
        "kind": "subsidy",
        "budget_yuan": "10000000.00",
        "cap_per_company_yuan": "500000.00",
        "window_start": "2026-03-01",
        "window_end": "2026-12-31",
        "required_documents": [
            "营业执照",
            "专精特新认定文件",
            "上年度财务审计报告",
            "纳税证明",
            "信用承诺书",
        ],
        "review_steps": ["first_review", "second_review"],
    },
    {
        "code": "ks_scenario_demo_grant",
        "name": "元宇宙应用场景示范项目补助",
        "department": "昆山市工业和信息化局",
        "year": 2026,
        "kind": "subsidy",
        "budget_yuan": "15000000.00",
        "cap_per_company_yuan": "1000000.00",
        "window_start": "2026-03-01",
        "window_end": "2026-12-31",
        "required_documents": [
            "营业执照",
            "项目申报书",
            "应用场景建设方案",
            "项目合同及发票",
            "用户单位验收证明",
        ],
        "review_steps": ["first_review", "expert_review", "site_check"],
    },
    {
        "code": "nc_vr_rnd_grant",
        "name": "南昌市VR(元宇宙)产业研发补助",
        "department": "南昌市科技局",
        "year": 2026,
        "kind": "subsidy",
        "budget_yuan": "8000000.00",
        "cap_per_company_yuan": "500000.00",
        "window_start": "2026-03-01",
        "window_end": "2026-12-31",
        "required_documents": [
            "营业执照",
            "项目申报书",
            "研发费用专项审计报告",
            "知识产权证明材料",
        ],
        "review_steps": ["first_review", "second_review", "expert_review"],
    },
]
