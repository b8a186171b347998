// Small progressive enhancements; every page works without JavaScript.
// Behaviour is declared with data- attributes and bound here, never with on*= attributes or
// inline scripts: the Content-Security-Policy (crm/settings.py) allows script files only.
// Listeners sit on the document, so content htmx swaps in later behaves the same.

// data-confirm on a form asks before it is submitted; on a button or link, before it acts.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.matches("[data-confirm]")
      && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
document.addEventListener("click", (event) => {
  const el = event.target instanceof Element && event.target.closest("[data-confirm]");
  if (!el || el instanceof HTMLFormElement) return;
  if (!window.confirm(el.dataset.confirm)) event.preventDefault();
});

// data-print: a button that prints the page.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
});

// data-autosubmit: a select that submits its form when changed (the language switch).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLElement && field.matches("[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});

// Search selects (crm/core/widgets.py): the search box beside a select of too many rows to list.
// htmx swaps the matches in as the select's options; this shows the box (useless without
// JavaScript), tells the lookup the current value (kept, so a search never changes the choice
// silently) and the forwarded fields (a project search narrowed to the chosen company).
(() => {
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-search-select]").forEach((input) => {
      input.hidden = false;
    });
  });
  const searchSelectOf = (input) => document.getElementById(input.getAttribute("aria-controls"));
  const searchSelectForward = (input) => JSON.parse(input.dataset.forward || "{}");
  document.addEventListener("htmx:configRequest", (event) => {
    const input = event.detail.elt;
    if (!input.matches("[data-search-select]")) return;
    const params = event.detail.parameters;
    params.q = input.value;
    params.selected = searchSelectOf(input).value;
    for (const [param, name] of Object.entries(searchSelectForward(input))) {
      const field = input.form && input.form.elements.namedItem(name);
      if (field && field.value) params[param] = field.value;
    }
  });
  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLElement) || !input.matches("[data-search-select]")) return;
    if (event.key === "Enter") {
      // Search now instead of submitting the form half filled.
      event.preventDefault();
      htmx.trigger(input, "refresh");
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      searchSelectOf(input).focus();
    }
  });
  document.addEventListener("change", (event) => {
    const changed = event.target;
    if (!changed.form || !changed.name) return;
    changed.form.querySelectorAll("[data-search-select]").forEach((input) => {
      if (Object.values(searchSelectForward(input)).includes(changed.name)) {
        htmx.trigger(input, "refresh");
      }
    });
  });
})();

// Multiple choices (阶段, 状态, 协作人, ...): a searchable select with a chip per value
// (tom-select, from npm and served by the app) instead of a raw multi-select box. The original
// <select> stays in the form and is what it posts; without JavaScript it still works.
(() => {
  const enhance = (root) => {
    if (typeof TomSelect === "undefined") return;
    root.querySelectorAll("select[multiple]:not(.tomselected):not([data-plain])")
      .forEach((select) => {
        const label = select.labels && select.labels[0];
        // eslint-disable-next-line no-new
        new TomSelect(select, {
          plugins: ["remove_button"],
          maxOptions: null,
          hidePlaceholder: true,
          placeholder: select.dataset.placeholder || document.documentElement.dataset.chooseLabel || "",
          onItemAdd() { this.setTextboxValue(""); this.refreshOptions(false); },
        });
        // tom-select points the <label> at its search box; the original select, still what
        // the form posts, keeps its name for screen readers and checkers.
        const name = label ? label.textContent.trim() : "";
        const input = select.parentElement.querySelector(".ts-control input");
        if (name) {
          select.setAttribute("aria-label", name);
          if (input && !input.getAttribute("aria-label")) input.setAttribute("aria-label", name);
        }
      });
  };
  document.addEventListener("DOMContentLoaded", () => enhance(document));
  document.addEventListener("htmx:load", (event) => enhance(event.target));
})();

// A table (or, on a phone, a chart) wider than its frame scrolls sideways: the frame takes the
// keyboard focus, so it can be scrolled without a mouse (WCAG 2.1.1; axe's scrollable-region-focusable).
(() => {
  const focusable = (root) => {
    root.querySelectorAll(".table-wrap, .chart").forEach((wrap) => {
      if (wrap.scrollWidth > wrap.clientWidth || wrap.scrollHeight > wrap.clientHeight) {
        wrap.tabIndex = 0;
      }
    });
  };
  document.addEventListener("DOMContentLoaded", () => focusable(document));
  document.addEventListener("htmx:load", (event) => focusable(event.target));
  window.addEventListener("resize", () => focusable(document));
})();

// On a phone a long dashboard opens as the list of its sections' titles, each a button that
// shows or hides its section (the leader dashboard was 8,400 px tall at 390 px wide). On a desk
// every section stays open. A section htmx loads later (the fulfilment block) is set up too.
(() => {
  const PHONE = window.matchMedia("(max-width: 600px)");
  const SECTIONS = "[data-collapsible-sections] section.card";
  const setOpen = (card, open) => {
    card.classList.toggle("is-collapsed", !open);
    card.querySelector(".card-toggle")?.setAttribute("aria-expanded", String(open));
  };
  const setup = (card) => {
    const title = card.querySelector(":scope > .card-header > .card-title");
    if (!title || title.querySelector(".card-toggle")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "card-toggle";
    button.append(...title.childNodes);
    title.append(button);
    button.addEventListener("click", () => setOpen(card, card.classList.contains("is-collapsed")));
    setOpen(card, !PHONE.matches);
  };
  const enhance = (root) => {
    if (root.matches?.(SECTIONS)) setup(root);
    root.querySelectorAll?.(SECTIONS).forEach(setup);
  };
  document.addEventListener("DOMContentLoaded", () => enhance(document));
  document.addEventListener("htmx:load", (event) => enhance(event.target));
  // Turned or widened to a desk's width: everything shows again.
  PHONE.addEventListener("change", () => {
    if (!PHONE.matches) document.querySelectorAll(SECTIONS).forEach((card) => setOpen(card, true));
  });
})();
