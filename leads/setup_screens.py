"""The pipeline's reference data on the administrators' settings screens
(crm.core.setup_screens), registered in ready()."""

from django.utils.translation import gettext_lazy as _

from crm.core.setup_screens import Column, SetupScreen, setup_screens

from .forms import LostReasonForm, StageForm
from .models import LostReason, Stage


def _gates(stage: Stage) -> str:
    gates = [str(_("USCC"))] * stage.requires_uscc + [str(_("Signed agreement"))] * \
        stage.requires_agreement
    return "、".join(gates) or "—"


def register() -> None:
    setup_screens.register(SetupScreen(
        key="stages", title=_("Stages"), noun=_("stage"), model=Stage, form_class=StageForm,
        icon="list-ordered", order=20,
        description=_("The pipeline's stages in their order, with the gates a project must "
                      "pass and the milestone each counts for. A stage in use is switched off, "
                      "not deleted."),
        columns=(Column.field(Stage, "name", value="label"), Column.field(Stage, "code"),
                 Column.field(Stage, "order", numeric=True), Column.field(Stage, "kind"),
                 Column.field(Stage, "probability", numeric=True),
                 Column.field(Stage, "milestone"), Column(_("Gates"), _gates),
                 Column.field(Stage, "is_active")),
    ))
    setup_screens.register(SetupScreen(
        key="lost-reasons", title=_("Lost reasons"), noun=_("lost reason"), model=LostReason,
        form_class=LostReasonForm, icon="circle-x", order=30,
        description=_("What staff choose from when a project is lost (终止)."),
        columns=(Column.field(LostReason, "name"), Column.field(LostReason, "code"),
                 Column.field(LostReason, "order", numeric=True),
                 Column.field(LostReason, "is_active")),
    ))
