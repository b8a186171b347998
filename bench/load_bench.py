"""Load run: gunicorn (several workers) on 127.0.0.1 and locust headless for a bounded time."""

import csv
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "load"
PORT = 8765
WORKERS = 4  # 2 cores: 2 per core, I/O-bound requests
# The demo logins the virtual users browse as: leaders, investment staff, a park manager.
# (Not imported from locustfile.py: importing locust monkey-patches threading with gevent,
# which breaks Django's database connections in this process.)
USERS = ["sun.jianguo", "zhang.wei", "li.na", "liu.yang", "wang.jing"]


def _wait(url: str, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:  # noqa: BLE001 (not up yet)
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer")


def _sessions(usernames: list[str]) -> str:
    """A signed-in session per demo user, made the way Django's test client does, so the
    measured window holds browsing only: a sign-in costs ~0.5 s of CPU in PBKDF2 by design
    and happens once a day per person, not once per page."""
    import django

    django.setup()
    from django.test import Client

    from crm.accounts.models import User

    cookies = []
    for user in User.objects.filter(username__in=usernames, is_active=True):
        client = Client()
        client.force_login(user)
        cookies.append(f"{user.username}={client.cookies['sessionid'].value}")
    return ",".join(cookies)


def run(*, users: int, seconds: int, env: dict) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    host = f"http://127.0.0.1:{PORT}"
    sessions = _sessions(USERS)
    server_env = {**env, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    errors = open(OUT / "gunicorn.err", "w")  # noqa: SIM115 (lives as long as the server)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "crm.wsgi", "-b", f"127.0.0.1:{PORT}",
         "-w", str(WORKERS), "--log-level", "warning"],
        cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        _wait(host + "/accounts/login/")
        prefix = OUT / "locust"
        subprocess.run(
            [str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" /
                                                                    "locustfile.py"),
             "--headless", "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{seconds}s",
             "-H", host, "--csv", str(prefix), "--only-summary"],
            cwd=ROOT, env={**env, "PYTHONPATH": "", "BENCH_SESSIONS": sessions},
            check=False, capture_output=True,
            timeout=seconds + 120)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        errors.close()
    with open(f"{prefix}_stats.csv") as handle:
        rows = list(csv.DictReader(handle))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    by_name = [{"name": r["Name"], "n": int(r["Request Count"]),
                "p50_ms": float(r["50%"]), "p95_ms": float(r["95%"])}
               for r in rows if r["Name"] != "Aggregated"]
    result = {"users": users, "seconds": seconds, "workers": WORKERS,
              "requests": int(total["Request Count"]), "errors": int(total["Failure Count"]),
              "rps": round(float(total["Requests/s"]), 1), "p50_ms": float(total["50%"]),
              "p95_ms": float(total["95%"]), "p99_ms": float(total["99%"]), "by_name": by_name}
    print(f"  load: {result}", flush=True)
    return result



