"""履约监管: what a signed project promised (agreements, their obligations, incentives and
remedies), what it did (actuals per period), and what follows (statuses, acceptance, money held
back or clawed back).

It lives in funds because its consequences are funds': incentives are fund programmes and
applications, a breach stops their tranches and a failed acceptance proposes their clawbacks.
The models are funds' (funds/models.py imports them), the code is kept together here:
models.py, rules.py (statuses and the acceptance arithmetic, pure), services.py (writes),
selectors.py (reads and the leaders' figures), views, api, imports and reminders.
"""
