"""A milestone is met on the day the project reaches its stage: when a stage event is written,
the stored statuses of that project's obligations are judged again, in the same transaction,
so the project page read right after the move shows the milestone met. A project without an
agreement costs the move one indexed query."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from leads.models import StageEvent

from .models import Agreement


@receiver(post_save, sender=StageEvent, dispatch_uid="fulfilment.stage_event_saved")
def stage_event_saved(sender, instance: StageEvent, created: bool, raw: bool = False,
                      **kwargs) -> None:
    if raw or not created:
        return
    agreements = list(Agreement.objects.filter(project_id=instance.project_id).only("pk"))
    if agreements:
        from .services import obligations_refresh

        obligations_refresh(agreements=agreements)
