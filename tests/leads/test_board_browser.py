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


@pytest.mark.browser
def test_a_card_is_moved_by_touch_or_keyboard_from_its_menu(
    live_server, browser_page, staff_user  # noqa: F811
):
    """A phone cannot drag: the card's move button opens a menu of the stages; a refused move
    keeps the menu open with the reason, a good one moves the card and closes it."""
    project = make_project(owner=staff_user, stage_code="framework", name="触屏移动项目")
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, staff_user.username, TEST_PASSWORD)
    page.goto(live_server.url + reverse("leads:project-board"))
    card = f'.kanban-card[data-project="{project.pk}"]'
    page.click(f"{card} [data-move]")
    page.wait_for_selector("#move-dialog[open]")
    assert page.text_content("[data-move-name]") == "触屏移动项目"
    assert page.is_hidden("[data-lost-only]")  # no reason asked for an open stage

    page.select_option("#move_stage", "signed")
    page.click("#move-dialog button[type=submit]")
    page.wait_for_selector("[data-move-error]:not(:empty)")
    assert "协议" in page.text_content("[data-move-error]")
    assert page.is_visible("#move-dialog")
    assert Project.objects.get(pk=project.pk).stage.code == "framework"

    page.select_option("#move_stage", "negotiating")
    page.click("#move-dialog button[type=submit]")
    page.wait_for_selector(f'.kanban-col[data-stage="negotiating"] {card}')
    assert not page.is_visible("#move-dialog")
    assert Project.objects.get(pk=project.pk).stage.code == "negotiating"

    # The keyboard: the move button takes the focus and Enter opens the same menu.
    page.focus(f"{card} [data-move]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#move-dialog[open]")
    page.keyboard.press("Escape")
    page.wait_for_selector("#move-dialog:not([open])", state="attached")
    page.screenshot(path="var/screenshots/board-phone.png", full_page=False)


@pytest.mark.browser
def test_a_card_dropped_on_lost_asks_for_the_reason(
    live_server, browser_page, staff_user  # noqa: F811
):
    from leads.models import LostReason

    project = make_project(owner=staff_user, stage_code="negotiating", name="终止原因项目")
    reason = LostReason.objects.filter(is_active=True).first()
    page = browser_page
    login(page, live_server, staff_user.username, TEST_PASSWORD)
    page.goto(live_server.url + reverse("leads:project-board"))
    card = f'.kanban-card[data-project="{project.pk}"]'
    # The lost column is a board's width away: drag by the events themselves (Playwright's
    # mouse drag loses the card when the board scrolls under it).
    transfer = page.evaluate_handle("() => new DataTransfer()")
    page.dispatch_event(card, "dragstart", {"dataTransfer": transfer})
    target = '.kanban-col[data-kind="lost"] .kanban-cards'
    page.dispatch_event(target, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(target, "drop", {"dataTransfer": transfer})
    page.wait_for_selector("#move-dialog[open]")
    assert page.is_visible("[data-lost-only]")
    assert Project.objects.get(pk=project.pk).stage.code == "negotiating"  # not yet

    page.select_option("#move_lost_reason", str(reason.pk))
    page.fill("#move_note", "企业决定暂不投资")
    page.click("#move-dialog button[type=submit]")
    page.wait_for_selector(f'.kanban-col[data-kind="lost"] {card}')
    moved = Project.objects.get(pk=project.pk)
    assert moved.stage.kind == "lost" and moved.lost_reason == reason
