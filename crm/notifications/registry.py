"""Rule kinds, registered by the apps in their AppConfig.ready(). An evaluator receives the
rule (its threshold in `rule.days`), today's date and the records to look at, and yields Due
items; the scan turns them into reminders. Evaluators must walk their rows with .iterator()
(bounded memory).

A kind that watches one model names it (`model=`): the periodic scan passes every row
(`model.objects.all()`), and a write that may make one record due asks for a scan of that
record alone (services.nudge_scan(record=...)), which passes a queryset of just it. A kind with
no model (a digest) is called as evaluator(rule, today) and runs only in the periodic scan."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Due:
    record: Model
    recipient_ids: tuple[int, ...]
    due_on: date
    title: str
    body: str = ""
    link: str = ""
    # The record is confidential: channels that leave the product (a group chat's robot) name
    # it only as "a confidential record" with its link (crm/notifications/channels.py).
    confidential: bool = False


# evaluator(rule, today, records) for a kind with a model; evaluator(rule, today) without.
Evaluator = Callable[..., Iterable[Due]]


@dataclass(frozen=True)
class RuleKind:
    kind: str
    label: str
    evaluator: Evaluator
    model: type[Model] | None = None

    def evaluate(self, rule, today: date, records: QuerySet | None = None) -> Iterable[Due]:
        """What is due under `rule` among `records` (default: every row of the model)."""
        if self.model is None:
            return self.evaluator(rule, today)
        if records is None:
            records = self.model._default_manager.all()
        return self.evaluator(rule, today, records)


_kinds: dict[str, RuleKind] = {}
_confidential_names: dict[type[Model], Callable[[Model], str]] = {}


def register_confidential_name(model: type[Model], namer: Callable[[Model], str]) -> None:
    """How an app names one of its confidential records to a reader who may not open it, e.g.
    leads' confidential_name(project): "保密项目（ID 12）". The namer gets an unsaved instance
    with only its pk set, so it must not read any other field (which is the point)."""
    _confidential_names[model] = namer


def confidential_name(model: type[Model] | None, pk) -> str:
    """The name of a confidential record for messages that leave the product (a group chat's
    robot): the words its app registered (register_confidential_name), else a neutral name
    with the id."""
    namer = _confidential_names.get(model) if model is not None else None
    if namer is None:
        return _("Confidential record (ID %(id)s)") % {"id": pk}
    return str(namer(model(pk=pk)))


def register_rule_kind(kind: str, label: str, *, model: type[Model] | None = None):
    def decorator(func: Evaluator) -> Evaluator:
        _kinds[kind] = RuleKind(kind=kind, label=label, evaluator=func, model=model)
        return func

    return decorator


def rule_kind(kind: str) -> RuleKind | None:
    return _kinds.get(kind)


def rule_kinds() -> Iterator[RuleKind]:
    return iter(sorted(_kinds.values(), key=lambda k: k.kind))


def kinds_for(model: type[Model]) -> list[RuleKind]:
    """The kinds that watch `model` (a targeted scan of one record runs these)."""
    return [kind for kind in _kinds.values()
            if kind.model is not None and issubclass(model, kind.model)]
