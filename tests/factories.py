import itertools

import factory
from django.contrib.auth.models import Group

from crm.accounts.models import User

TEST_PASSWORD = "test-pass-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.gov.cn")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        for role in extracted:
            self.groups.add(Group.objects.get(name=role))

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


# --- leads ---------------------------------------------------------------------------------------
def valid_uscc(n: int, region: str = "320583") -> str:
    """A valid, unique USCC for test number n."""
    from leads.uscc import USCC_ALPHABET, make_uscc

    digits = ""
    for _ in range(9):
        digits = USCC_ALPHABET[n % 31] + digits
        n //= 31
    return make_uscc("91" + region + digits)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Company"

    name = factory.Sequence(lambda n: f"昆山测试{n}号科技有限公司")
    uscc = factory.Sequence(lambda n: valid_uscc(n + 1000))
    source_region = "yrd"


_project_numbers = itertools.count(1)


def make_project(*, owner, company=None, stage_code: str = "lead", confidential=False,
                 collaborators=(), agreed=None, by=None, **fields):
    """A project created through the service (so it has its first stage event), by its owner
    unless `by` says who (only investment staff create projects; a leader may hold one)."""
    import datetime

    from leads.models import Stage
    from leads.services import project_create

    fields.setdefault("next_step", "电话回访")
    fields.setdefault("next_step_on", datetime.date.today() + datetime.timedelta(days=7))
    return project_create(
        by=by or owner, owner=owner, company=company or CompanyFactory(),
        name=fields.pop("name", f"测试项目{next(_project_numbers)}"),
        stage=Stage.objects.get(code=stage_code), confidential=confidential,
        collaborators=collaborators, agreed_investment_wan=agreed, **fields,
    )


# --- parks ---------------------------------------------------------------------------------------
def system_admin():
    """An administrator for the test data the services write (inventory, bookings): the
    services check their actor, as they do for everyone."""
    from crm.accounts.roles import Role

    user = User.objects.filter(username="factory-admin").first()
    return user or UserFactory(username="factory-admin", roles=[Role.ADMINISTRATOR])


def make_unit(*, park=None, code=None, area="100", use="office", rentable=True, building=None,
              floor_number=None, by=None, **fields):
    from decimal import Decimal

    from parks.models import Park
    from parks.services import unit_create

    park = park or Park.objects.get_or_create(code="test-park", defaults={"name": "测试园区"})[0]
    return unit_create(by=by or system_admin(), park=park,
                       code=code or f"U{next(_unit_numbers)}", use=use,
                       gross_area_m2=Decimal(area), rentable=rentable, building=building,
                       floor_number=floor_number, **fields)


_unit_numbers = itertools.count(100)


# --- funds ---------------------------------------------------------------------------------------
def make_programme(**fields):
    import datetime
    from decimal import Decimal

    from funds.models import Programme

    today = datetime.date.today()
    defaults = {
        "code": f"prog-{next(_programme_numbers)}", "name": "元宇宙产业发展专项资金",
        "department": "昆山市工业和信息化局", "year": today.year, "kind": "special_fund",
        "budget_yuan": Decimal("1000000"), "cap_per_company_yuan": Decimal("500000"),
        "window_start": today - datetime.timedelta(days=30),
        "window_end": today + datetime.timedelta(days=30),
        "required_documents": ["营业执照"], "review_steps": ["first_review"],
    }
    defaults.update(fields)
    return Programme.objects.create(**defaults)


_programme_numbers = itertools.count(1)
