"""The error pages and the errors on forms, as people meet them (issue 17, "Errors"): the 400,
403, 404 and 500 pages in the product's style, a summary at the top of every refused form that
links to each field, and the wrong or repeated messages the issue names."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import path, reverse
from django.utils import timezone

from crm.accounts.roles import Role
from crm.core.dates import add_working_days
from crm.urls import urlpatterns as product_urls
from funds import services as fund_services
from funds.models import State
from parks import services as park_services
from parks.models import Assignment
from tests.factories import CompanyFactory, make_programme, make_project, make_unit, system_admin
from tests.funds.test_pages import draft, to_review

pytestmark = pytest.mark.django_db
NAVIGATION = 'aria-label="主导航"'


def text(response) -> str:
    return unescape(response.content.decode())


def assert_product_page(response, status):
    body = text(response)
    assert response.status_code == status
    assert "<title>" in body and 'href="/static/crm/css/app.css"' in body
    assert "Forbidden" not in body and "Not Found" not in body and "Bad Request" not in body
    return body


# --- The error pages ---------------------------------------------------------------------------
def test_a_park_manager_opening_the_import_gets_the_products_403(make_user, client_for):
    response = client_for(make_user(Role.PARK_MANAGER)).get("/leads/import/")
    body = assert_product_page(response, 403)
    assert NAVIGATION in body and 'class="nav-link' in body
    assert "您无权执行此操作" in body and "返回首页" in body
    assert "403 Forbidden" not in body


def test_an_unknown_address_gets_the_products_404_with_navigation(staff_user, client_for):
    response = client_for(staff_user).get("/no/such/page/")
    body = assert_product_page(response, 404)
    assert NAVIGATION in body and "页面不存在" in body


def test_a_404_before_signing_in_has_no_navigation_nor_a_sign_out(client):
    response = client.get("/static-nothing/")  # not a view: no redirect to the login page
    body = assert_product_page(response, 404)
    assert "页面不存在" in body and NAVIGATION not in body and "AnonymousUser" not in body


def test_a_form_sent_without_its_csrf_token_gets_the_products_403(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post(reverse("leads:company-create"), {"name": "昆山某公司"})
    body = assert_product_page(response, 403)
    assert NAVIGATION in body and "您无权执行此操作" in body and "CSRF verification" not in body
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = text(client.post(reverse("leads:company-create"), {"name": "昆山某公司"}))
    assert "This form has expired" in body and "Reload the page" in body


def test_a_bad_parameter_gets_the_products_400_naming_it(staff_user, client_for):
    client = client_for(staff_user)
    response = client.get(reverse("leads:project-board-more", args=["lead"]), {"offset": "abc"})
    body = assert_product_page(response, 400)
    assert NAVIGATION in body and "offset" in body
    # An htmx fragment still gets the bare reason, to show where the cards would have been.
    response = client.get(reverse("leads:project-board-more", args=["lead"]), {"offset": "abc"},
                          HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "<html" not in text(response)
    assert "offset" in text(response)


def _fails(request):
    raise RuntimeError("a fault")


urlpatterns = [path("fails/", _fails), *product_urls]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_gets_the_products_500_without_context(staff_user):
    client = Client(raise_request_exception=False)
    client.force_login(staff_user)
    response = client.get("/fails/")
    body = assert_product_page(response, 500)
    assert "招商引资管理平台" in body and "返回首页" in body
    assert "brand-mark" in body and NAVIGATION not in body  # nothing that needs the request


# --- A summary at the top of a refused form ---------------------------------------------------
def test_a_refused_follow_up_opens_with_a_summary_linking_to_each_field(staff_user, client_for):
    project = make_project(owner=staff_user)
    response = client_for(staff_user).post(
        reverse("leads:followup-create", args=[project.pk]),
        {"date": "not a date", "kind": "", "summary": ""})
    assert response.status_code == 400
    body = text(response)
    form = response.context["followup_form"]
    assert form.errors
    summary = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', body,
                        re.S)
    assert summary, "no error summary"
    links = re.findall(r'<a href="#([^"]+)">', summary.group(1))
    assert links == [form[name].auto_id for name in form.fields if name in form.errors]
    for anchor in links:  # each link reaches an element of the page
        assert f'id="{anchor}"' in body
    # The summary comes first: before the form's first field.
    assert body.index('class="error-summary"') < body.index(f'id="{links[0]}"')


def test_the_summary_lists_errors_of_the_whole_form_without_a_link(staff_user, client_for):
    from django import forms

    class Period(forms.Form):
        start = forms.DateField(label="开始")

        def clean(self):
            raise forms.ValidationError("整体有误")

    html = str(Period({"start": "x"}))
    assert 'role="alert"' in html and "整体有误" in html and 'href="#id_start"' in html
    assert html.count("整体有误") == 1  # once: in the summary, not again above the fields
    assert 'class="error-summary"' not in str(Period())


# --- The wrong and repeated messages -----------------------------------------------------------
def test_an_assignment_ending_before_it_starts_says_so_on_the_last_day(make_user, client_for):
    manager = make_user(Role.PARK_MANAGER)
    park = park_services.park_create(by=system_admin(), code="gd", name="光电产业园",
                                     city="昆山市", managers=[manager])
    unit = make_unit(park=park, code="A-301", area="300")
    response = client_for(manager).post(reverse("parks:assignment-create", args=[unit.pk]), {
        "kind": "lease", "company": CompanyFactory().pk, "project": "", "start": "2027-06-01",
        "last_day": "2027-05-01", "area_m2": "", "price": "2.00", "rent_free_last_day": "",
        "hold_until": "", "note": ""})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["last_day"]
    assert errors["last_day"] == ["截止日不能早于开始日期。"]
    assert "只有出售可以不设截止日" not in text(response)
    assert not Assignment.objects.exists()


@pytest.fixture
def under_review(make_user):
    staff, reviewer = make_user(Role.INVESTMENT_STAFF), make_user(Role.FUND_REVIEWER)
    application = to_review(draft(staff, make_programme()), staff, reviewer)
    fund_services.review_record(application=application, by=reviewer, decision="pass",
                                opinion="符合条件")
    return application, reviewer


def test_a_too_short_publicity_is_refused_once_under_its_field_keeping_the_dates(
        under_review, client_for):
    application, reviewer = under_review
    today = timezone.localdate()
    start, end = today, today + timezone.timedelta(days=1)
    client = client_for(reviewer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the message is a new msgid
    response = client.post(
        reverse("funds:application-transition", args=[application.pk]),
        {"to": State.PUBLICITY, "publicity_start": str(start), "publicity_end": str(end)})
    assert response.status_code == 400
    body = text(response)
    earliest = f"{add_working_days(start, 5):%Y-%m-%d}"
    message = (f"The publicity lasts at least 5 working days: starting {start:%Y-%m-%d}, "
               f"it can end on {earliest} at the earliest.")
    [form] = [form for move, form in response.context["moves"] if form.is_bound]
    assert form.errors == {"publicity_end": [message]}
    # Under the field, and once more in the form's summary as a link to it: not in a banner
    # message above the page, and without the field's label inside the message.
    field = re.search(r'<div class="field has-error[^"]*">.*?</div>', body, re.S).group(0)
    assert 'for="id_publicity_publicity_end"' in field and message in field
    assert body.count(message) == 2 and body.count('href="#id_publicity_publicity_end"') == 1
    summary = body.split('class="error-summary"')[1].split("</div>")[0]
    assert f"Publicity until: {message}" in summary  # the label once, before the message
    assert not [m for m in response.context["messages"] if m.level_tag == "error"]
    # What was typed is still in the fields.
    assert f'value="{start:%Y-%m-%d}"' in body and f'value="{end:%Y-%m-%d}"' in body
    application.refresh_from_db()
    assert application.state == State.UNDER_REVIEW and application.publicity_start is None


def test_a_good_publicity_still_moves_and_returns_to_the_application(under_review, client_for):
    application, reviewer = under_review
    response = client_for(reviewer).post(
        reverse("funds:application-transition", args=[application.pk]),
        {"to": State.PUBLICITY, "publicity_start": "", "publicity_end": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.PUBLICITY


def test_settings_name_the_csrf_failure_view():
    assert settings.CSRF_FAILURE_VIEW == "crm.core.views.csrf_failure"
