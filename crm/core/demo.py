"""Demo data: a registry of seeders that the apps plug into.

`manage.py seed_demo` runs every registered seeder in order with one shared context: a seeded
random generator (same world every time), the scale factor and today's date. Each seeder must
be idempotent: it looks rows up by a natural key and creates only what is missing, so running
the command twice leaves one world, not two.

Each app registers its seeders in its demo.py (imported by its AppConfig.ready). The bulk
seeders of `--scale N > 1` (bench data) live beside it in volume.py, which reads pieces of
the demo; they are discovered here when the seeders are asked for, as the admin discovers
admin.py, so no demo module has to import its volume module back (that was an import cycle).
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

DEMO_PASSWORD = "demo-2026"  # printed by `make run`; demo databases only
DEMO_RANDOM_SEED = 20221222  # the date of the Jiangxi Daily piece the demo world grew from


@dataclass
class SeedContext:
    scale: int = 1
    today: date = field(default_factory=timezone.localdate)
    rng: random.Random = field(default_factory=lambda: random.Random(DEMO_RANDOM_SEED))
    log: Callable[[str], None] = print
    shared: dict = field(default_factory=dict)  # seeders hand each other rows here


@dataclass(frozen=True)
class Seeder:
    name: str
    order: int
    func: Callable[[SeedContext], None]


_seeders: dict[str, Seeder] = {}


def register_seeder(name: str, order: int):
    def decorator(func: Callable[[SeedContext], None]):
        _seeders[name] = Seeder(name=name, order=order, func=func)
        return func

    return decorator


def seeders() -> list[Seeder]:
    autodiscover_modules("volume")  # each app's volume.py registers its bulk seeders
    return sorted(_seeders.values(), key=lambda s: (s.order, s.name))
