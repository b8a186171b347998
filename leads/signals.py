"""Keep Project.entered_at and reached_order true when their meaning changes outside the
services: a stage reordered, or moved on or off the path, in the admin. (Stage events are
written only by leads.services and are read-only in the admin.) A rare write, so a full
recompute after the commit is the simple, honest answer."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Stage
from .services import project_milestones_refresh


@receiver(post_save, sender=Stage, dispatch_uid="leads.stage_saved")
def stage_saved(sender, instance: Stage, created: bool, raw: bool = False, **kwargs) -> None:
    if created or raw:
        return  # no event can point at a stage that did not exist
    transaction.on_commit(project_milestones_refresh)
