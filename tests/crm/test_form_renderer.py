"""The product's form renderer swaps Django's select template for a faster one that must
write exactly the same HTML (options, optgroups, selected, attributes, escaping)."""

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation

from crm.core.forms import CrmFormRenderer

CHOICES = [("", "---------"), ("a", "甲 & <乙>"),
           ("Group", [("g1", "组一"), ("g2", "组二")]), (3, "三")]


class Sample(forms.Form):
    single = forms.ChoiceField(choices=CHOICES)
    many = forms.MultipleChoiceField(choices=CHOICES[1:], widget=forms.SelectMultiple(
        attrs={"size": 4, "data-x": "1", "disabled": True}))
    plain = forms.ChoiceField(choices=[(1, "one")], widget=forms.Select(attrs={"class": "c"}))


def test_faster_select_writes_the_same_html_as_django():
    data = {"single": "g2", "many": ["a", "3"], "plain": "1"}
    for field in ("single", "many", "plain"):
        with translation.override("zh-hans"):
            ours = Sample(data, renderer=CrmFormRenderer())[field].as_widget()
            django = Sample(data, renderer=DjangoTemplates())[field].as_widget()
        # The one difference: Django's empty choice invites a choice instead of "---------".
        assert ours == django.replace(">---------<", ">请选择…<")
    assert 'value="g2" selected' in Sample(data, renderer=CrmFormRenderer())["single"].as_widget()
    assert "甲 &amp; &lt;乙&gt;" in Sample(renderer=CrmFormRenderer())["single"].as_widget()
