import pytest
from django.urls import reverse

from leads.models import Project
from tests.browser import browser_page, login  # noqa: F401 (fixture)
from tests.factories import TEST_PASSWORD, make_project


@pytest.mark.browser
def test_dragging_a_card_moves_the_project_and_a_refused_move_snaps_back(
    live_server, browser_page, staff_user  # noqa: F811
):
    project = make_project(owner=staff_user, stage_code="framework", name="拖拽测试项目")
    page = browser_page
    login(page, live_server, staff_user.username, TEST_PASSWORD)
    page.goto(live_server.url + reverse("leads:project-board"))
    card = f'.kanban-card[data-project="{project.pk}"]'
    assert page.locator(f'.kanban-col[data-stage="framework"] {card}').count() == 1

    # Signing needs the agreed amount and the agreement: refused, the card stays put.
    page.drag_and_drop(card, '.kanban-col[data-stage="signed"] .kanban-cards')
    page.wait_for_selector("#board-status.message-error")
    assert "协议" in page.text_content("#board-status")
    assert page.locator(f'.kanban-col[data-stage="framework"] {card}').count() == 1
    project.refresh_from_db()
    assert project.stage.code == "framework"

    # A legal move goes through and the card lands in its new column.
    page.drag_and_drop(card, '.kanban-col[data-stage="negotiating"] .kanban-cards')
    page.wait_for_selector(f'.kanban-col[data-stage="negotiating"] {card}')
    assert Project.objects.get(pk=project.pk).stage.code == "negotiating"
    page.screenshot(path="var/screenshots/board.png", full_page=True)
