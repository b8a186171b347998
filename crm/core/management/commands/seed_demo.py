from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from crm.core.demo import DEMO_PASSWORD, SeedContext, seeders
from crm.core.figures import figures_changed
from crm.notifications.services import nudges_batched


class Command(BaseCommand):
    help = "Build the demo world (deterministic and idempotent). --scale multiplies the volume."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=1, help="volume multiplier (1 = demo)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing if any user exists already"
        )

    def handle(self, *args, scale: int, if_empty: bool, **options):
        if if_empty and get_user_model().objects.exists():
            self.stdout.write("Database already has data; demo seeding skipped.")
            return
        context = SeedContext(scale=max(1, scale), log=self.stdout.write)
        # One reminder scan once the world is built, not one per follow-up and breach written.
        with nudges_batched():
            for seeder in seeders():
                with transaction.atomic():
                    seeder.func(context)
                self.stdout.write(f"  seeded {seeder.name}")
        # The volume seeders write by COPY, which no model signal sees.
        figures_changed()
        self.stdout.write(
            self.style.SUCCESS(f"Demo world ready. Password for every demo login: {DEMO_PASSWORD}")
        )
