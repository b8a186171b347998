// Kanban: dragging a card to another column, or choosing a stage from the card's move button
// (touch screens and keyboards cannot drag), asks the server to move the project. The server
// applies the same gates as the project page; a refused move leaves the card where it was and
// shows the reason. Nothing moves on screen until the server has said yes. A card dropped on a
// lost stage opens the move menu first: a lost project needs its reason.
(function () {
  const board = document.querySelector(".kanban");
  if (!board) return;
  const status = document.getElementById("board-status");
  const dialog = document.getElementById("move-dialog");
  const form = dialog.querySelector("[data-move-form]");
  const stageField = form.elements.stage;
  const lostOnly = form.querySelector("[data-lost-only]");
  const dialogError = form.querySelector("[data-move-error]");
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  const csrfToken = csrf ? decodeURIComponent(csrf.split("=")[1]) : "";
  const urlTemplate = board.dataset.moveUrlTemplate;
  let dragged = null;
  let moving = null; // the card the menu is open for

  const columnOf = (code) => board.querySelector(`.kanban-col[data-stage="${CSS.escape(code)}"]`);
  const isLost = (code) => columnOf(code)?.dataset.kind === "lost";

  function say(message, kind) {
    status.textContent = message;
    status.className = "board-status message message-" + kind;
  }

  function adjustCount(column, delta) {
    if (!column) return;
    const count = column.querySelector(".kanban-count");
    count.textContent = String(parseInt(count.textContent, 10) + delta);
  }

  // POST the move; on success put the card in its new column. Returns the refusal, or "".
  async function move(card, fields) {
    const url = urlTemplate.replace("/0/", "/" + card.dataset.project + "/");
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
        body: new URLSearchParams(fields),
        credentials: "same-origin",
      });
    } catch (error) {
      return board.dataset.offline || "Network error";
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) return data.detail || response.statusText;
    const from = card.closest(".kanban-col");
    const to = columnOf(fields.stage);
    if (to) {
      to.querySelector(".kanban-cards").prepend(card);
      card.dataset.stage = fields.stage;
    } else {
      card.remove(); // a stage the board does not show
    }
    adjustCount(from, -1);
    adjustCount(to, +1);
    const label = to ? to.querySelector(".kanban-col-header span").textContent
      : stageField.selectedOptions[0]?.textContent;
    say(card.querySelector(".kanban-card-title").textContent + " → " + label, "success");
    card.querySelector("[data-move]")?.focus();
    return "";
  }

  function refuse(card, message) {
    card.classList.add("is-refused");
    setTimeout(() => card.classList.remove("is-refused"), 900);
    say(message, "error");
  }

  // --- The menu -----------------------------------------------------------------------------
  function showLostReason() {
    lostOnly.hidden = !isLost(stageField.value);
  }

  function openMenu(card, stage) {
    moving = card;
    form.reset();
    dialogError.textContent = "";
    stageField.value = stage || card.dataset.stage;
    showLostReason();
    dialog.querySelector("[data-move-name]").textContent =
      card.querySelector(".kanban-card-title").textContent;
    dialog.showModal();
    (stage && isLost(stage) ? form.elements.lost_reason : stageField).focus();
  }

  stageField.addEventListener("change", showLostReason);
  dialog.querySelector("[data-move-cancel]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    moving?.querySelector("[data-move]")?.focus();
    moving = null;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const card = moving;
    if (!card) return;
    const fields = Object.fromEntries(new FormData(form));
    if (fields.stage === card.dataset.stage) {
      dialog.close();
      return;
    }
    const refusal = await move(card, fields);
    if (refusal) {
      dialogError.textContent = refusal; // the menu stays open with what was chosen
    } else {
      dialog.close();
    }
  });

  board.addEventListener("click", (event) => {
    const button = event.target.closest("[data-move]");
    if (button) openMenu(button.closest(".kanban-card"));
  });

  // --- Dragging -----------------------------------------------------------------------------
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
    dragged = null;
    if (card.closest(".kanban-col") === column) return;
    if (column.dataset.kind === "lost") {
      openMenu(card, column.dataset.stage);
      return;
    }
    const refusal = await move(card, { stage: column.dataset.stage });
    if (refusal) refuse(card, refusal);
  });
})();
