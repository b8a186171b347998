from django.contrib.auth.models import Group

from crm import demo_content
from crm.core.demo import DEMO_PASSWORD, SeedContext, register_seeder

from .models import User
from .roles import Role


@register_seeder("users", order=0)
def seed_users(ctx: SeedContext) -> None:
    users = {}
    for row in demo_content.USERS:
        user, created = User.objects.get_or_create(
            username=row["username"],
            defaults={"full_name": row["full_name"], "email": row["email"]},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            if row["role"] == Role.ADMINISTRATOR:
                user.is_staff = True
                user.is_superuser = True
            user.save()
        user.groups.add(Group.objects.get(name=row["role"]))
        users.setdefault(row["role"], []).append(user)
    ctx.shared["users"] = users
