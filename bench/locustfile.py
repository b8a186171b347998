"""A mixed workload for the load run (bench/load_bench.py): staff and leaders browsing lists,
the board, searches, availability and dashboards, through the API (token-less session login).
Only 127.0.0.1 is ever targeted."""

import random

from locust import HttpUser, between, task

USERS = ["sun.jianguo", "zhang.wei", "li.na", "liu.yang", "wang.jing"]
PASSWORD = "demo-2026"


class Colleague(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.client.get("/accounts/login/", name="login page")
        token = self.client.cookies.get("csrftoken", "")
        self.client.post("/accounts/login/", {"username": random.choice(USERS),
                                              "password": PASSWORD,
                                              "csrfmiddlewaretoken": token},
                         headers={"Referer": self.host + "/accounts/login/"}, name="login")

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
