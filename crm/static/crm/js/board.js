// Kanban: dragging a card to another column asks the server to move the project. The server
// applies the same gates as the project page; a refused move snaps the card back and shows
// the reason. Nothing moves on screen until the server has said yes.
(function () {
  const board = document.querySelector(".kanban");
  if (!board) return;
  const status = document.getElementById("board-status");
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  const csrfToken = csrf ? decodeURIComponent(csrf.split("=")[1]) : "";
  const urlTemplate = board.dataset.moveUrlTemplate;
  let dragged = null;

  function say(message, kind) {
    status.textContent = message;
    status.className = "board-status message message-" + kind;
  }

  board.addEventListener("dragstart", (event) => {
    const card = event.target.closest(".kanban-card");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.project);
  });
  board.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("is-dragging");
    board.querySelectorAll(".is-over").forEach((c) => c.classList.remove("is-over"));
  });
  board.addEventListener("dragover", (event) => {
    const column = event.target.closest(".kanban-col");
    if (!column || !dragged) return;
    event.preventDefault();
    board.querySelectorAll(".is-over").forEach((c) => c !== column && c.classList.remove("is-over"));
    column.classList.add("is-over");
  });
  board.addEventListener("drop", async (event) => {
    const column = event.target.closest(".kanban-col");
    if (!column || !dragged) return;
    event.preventDefault();
    column.classList.remove("is-over");
    const card = dragged;
    const from = card.closest(".kanban-col");
    if (from === column) return;
    const body = new URLSearchParams({ stage: column.dataset.stage });
    const url = urlTemplate.replace("/0/", "/" + card.dataset.project + "/");
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
        body,
        credentials: "same-origin",
      });
    } catch (error) {
      say(board.dataset.offline || "Network error", "error");
      return;
    }
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      column.querySelector(".kanban-cards").prepend(card);
      card.dataset.stage = column.dataset.stage;
      adjustCount(from, -1);
      adjustCount(column, +1);
      say(card.querySelector(".kanban-card-title").textContent + " → " +
          column.querySelector(".kanban-col-header span").textContent, "success");
    } else {
      card.classList.add("is-refused");
      setTimeout(() => card.classList.remove("is-refused"), 900);
      say(data.detail || response.statusText, "error");
    }
  });

  function adjustCount(column, delta) {
    const count = column.querySelector(".kanban-count");
    count.textContent = String(parseInt(count.textContent, 10) + delta);
  }
})();
