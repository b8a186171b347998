"""A mixed workload for the load run (bench/load_bench.py): staff and leaders browsing lists,
the board, searches, availability and dashboards, pages and API, each virtual user signed in
with a session bench/load_bench.py opened for its demo login (BENCH_SESSIONS). Only 127.0.0.1
is ever targeted."""

import os
import random

from locust import HttpUser, between, task


class Colleague(HttpUser):
    # A colleague reads a page for a few seconds before the next click. (At 0.5-1.5 s the
    # same 50 users ask ~50 requests/s, more than this 2-core machine serves (~37/s with
    # locust on it too): the run then measures a queue, see bench/NOTES.md.)
    wait_time = between(2, 6)

    def on_start(self):
        sessions = dict(pair.split("=", 1) for pair in os.environ["BENCH_SESSIONS"].split(","))
        self.username = random.choice(sorted(sessions))
        self.client.cookies.set("sessionid", sessions[self.username])

    @task(5)
    def project_api(self):
        self.client.get("/api/v1/projects/?stage=negotiating", name="api projects filtered")

    @task(3)
    def project_page(self):
        self.client.get(f"/leads/projects/?page={random.randint(1, 50)}", name="projects page")

    @task(2)
    def board(self):
        self.client.get("/leads/projects/board/", name="board")

    @task(3)
    def company_search(self):
        q = random.choice(["科技", "szht", "电子", "hzyz", "昆山"])
        self.client.get(f"/api/v1/companies/?q={q}", name="api company search")

    @task(2)
    def availability(self):
        self.client.get("/api/v1/units/available/?start=2026-09-01&use=office&min_area=100",
                        name="api availability")

    @task(1)
    def occupancy(self):
        self.client.get("/api/v1/reports/occupancy/", name="api occupancy")

    @task(1)
    def dashboard(self):
        self.client.get("/", name="home dashboard")

    @task(1)
    def chain_map(self):
        self.client.get("/api/v1/reports/chain/", name="api chain map")
