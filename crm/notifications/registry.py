"""Rule kinds, registered by the apps in their AppConfig.ready(). An evaluator receives the
rule (its threshold in `rule.days`) and today's date and yields Due items; the scan turns
them into reminders. Evaluators must walk their rows with .iterator() (bounded memory)."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.db.models import Model


@dataclass(frozen=True)
class Due:
    record: Model
    recipient_ids: tuple[int, ...]
    due_on: date
    title: str
    body: str = ""
    link: str = ""


Evaluator = Callable[["object", date], Iterable[Due]]


@dataclass(frozen=True)
class RuleKind:
    kind: str
    label: str
    evaluator: Evaluator


_kinds: dict[str, RuleKind] = {}


def register_rule_kind(kind: str, label: str):
    def decorator(func: Evaluator) -> Evaluator:
        _kinds[kind] = RuleKind(kind=kind, label=label, evaluator=func)
        return func

    return decorator


def rule_kind(kind: str) -> RuleKind | None:
    return _kinds.get(kind)


def rule_kinds() -> Iterator[RuleKind]:
    return iter(sorted(_kinds.values(), key=lambda k: k.kind))
