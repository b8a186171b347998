"""One way to write numbers and money (crm/core/numbers.py), in both languages: the template
filter the pages use and the function the Python messages use give the same text."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from crm.core.numbers import format_money, format_number


def render(source: str, **context) -> str:
    return Template("{% load crm_tags %}" + source).render(Context(context))


@pytest.mark.parametrize(("language", "wan", "yi"), [("zh-hans", "万元", "亿元"),
                                                      ("en", "CNY 10k", "CNY 100M")])
def test_money_reads_in_wan_with_separators_in_both_languages(language, wan, yi):
    with translation.override(language):
        assert render("{{ v|amount }}", v=Decimal("7000")) == f"7,000.00 {wan}"
        # A fund amount kept in 元 is shown in 万元, exactly: no cent rounded away.
        assert render('{{ v|amount:"yuan" }}', v=Decimal("2000000000")) == f"200,000.00 {wan}"
        assert render('{{ v|amount:"yuan" }}', v=Decimal("123456.78")) == f"12.345678 {wan}"
        assert render('{{ v|amount:"yuan bare" }}', v=Decimal("300000")) == "30.00"
        # 亿元 only where asked for (a headline labelled so).
        assert render('{{ v|amount:"yi" }}', v=Decimal("434000")) == f"43.40 {yi}"
        assert render('{{ v|amount:"yi bare 1" }}', v=Decimal("434000")) == "43.4"
        assert render('{% money_unit "yi" %}') == yi
        assert render("{{ v|amount }}", v=None) == "—"
        assert format_money(Decimal("50000"), unit="yuan") == f"5.00 {wan}"


def test_plain_numbers_round_half_up_with_separators():
    assert format_number(Decimal("12345.675")) == "12,345.68"
    assert format_number(Decimal("2000"), 0) == "2,000"
    assert format_number("") == "—"
    assert render("{{ v|num:1 }}", v=Decimal("0.05")) == "0.1"


def test_an_unknown_format_word_is_a_clear_error():
    with pytest.raises(ValueError, match="bogus"):
        render('{{ v|amount:"bogus" }}', v=1)


@pytest.mark.parametrize(("language", "budget_label", "budget_cell"),
                         [("zh-hans", "预算（万元）", "200,000.00"),
                          ("en", "Budget (CNY 10k)", "200,000.00")])
def test_fund_pages_show_yuan_amounts_in_wan_like_the_dashboard(
        client, make_user, language, budget_label, budget_cell):
    from django.conf import settings
    from django.urls import reverse

    from crm.accounts.roles import Role
    from tests.factories import CompanyFactory, make_programme

    programme = make_programme(budget_yuan=Decimal("2000000000"),
                               cap_per_company_yuan=Decimal("5000000"))
    CompanyFactory(name="甲公司", registered_capital_wan=Decimal("2000"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(make_user(Role.LEADER))
    page = client.get(reverse("funds:programme-detail", args=[programme.pk])).content.decode()
    assert budget_label in page
    assert f'data-figure="budget">{budget_cell}<' in page
    assert "2,000,000,000.00" not in page
    companies = client.get(reverse("leads:company-list")).content.decode()
    assert "2,000.00" in companies and ">2000.00<" not in companies


def test_chinese_messages_end_in_full_width_punctuation():
    """Django's own Chinese for a decimal's places ends in "." ("确认小数不超过 2 位."); ours
    (crm/core/vendor_labels.py) ends as Chinese does."""
    from django import forms

    with translation.override("zh-hans"):
        with pytest.raises(forms.ValidationError) as places:
            forms.DecimalField(decimal_places=2).clean("1.234")
        with pytest.raises(forms.ValidationError) as digits:
            forms.DecimalField(max_digits=3, decimal_places=0).clean("12345")
        assert places.value.messages == ["确认小数不超过 2 位。"]
        assert digits.value.messages == ["确认总共不超过 3 个数字。"]
