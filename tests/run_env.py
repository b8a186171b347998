"""Loaded first by pytest (`-p tests.run_env` in pyproject.toml), before Django reads its
settings: the environment every test run needs before anything else happens.

CACHE_KEY_PREFIX: a prefix of this run's own, so two runs sharing one Redis (two developers,
a developer and CI) never read or invalidate each other's cached figures, import progress or
locks. Worker processes the tests start inherit it, so they share this run's cache."""

import os
import uuid

os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{uuid.uuid4().hex[:12]}")
