from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.core.forms import ReferenceForm
from crm.core.uploads import validate_upload
from crm.core.widgets import SearchSelect
from crm.org.selectors import tree_choices

from .models import (
    ChainNode,
    ChainRole,
    Company,
    Contact,
    FollowUp,
    FollowUpIssue,
    Industry,
    LostReason,
    Project,
    Qualification,
    Stage,
    project_holders,
)
from .uscc import normalize_uscc, validate_uscc

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
AGREEMENT_TYPES = {"pdf", "jpg", "jpeg", "png", "docx"}


# The empty choice of a company or project search select before a search (the lookups in
# views_lookup.py show the same text).
COMPANY_SEARCH_HINT = _("Type a name, pinyin initials or a credit code")
PROJECT_SEARCH_HINT = _("Type a project or company name, or pinyin initials")


def project_label(project: Project) -> str:
    """A project as a choice names its company too: two companies may each have a "二期"."""
    return f"{project.name}（{project.company.name}）"


class CompanySelect(SearchSelect):
    """The company choice of any form (leads, parks, funds): 100,000 companies cannot be
    listed in a select (issue 8), so the user searches them as on the company list."""

    lookup_url = "leads:lookup-companies"
    search_label = _("Search companies")
    placeholder = _("Search")
    hint = COMPANY_SEARCH_HINT


class ProjectSelect(SearchSelect):
    """The project choice; the form's company, once chosen, narrows it to that company."""

    lookup_url = "leads:lookup-projects"
    search_label = _("Search projects")
    placeholder = _("Search")
    hint = PROJECT_SEARCH_HINT
    forward = {"company": "company"}


class ProjectChoiceField(forms.ModelChoiceField):
    """A project choice, searched (select_related("company") in its queryset for the label)."""

    widget = ProjectSelect

    def label_from_instance(self, obj):
        return project_label(obj)


class IndustryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class CompanyForm(forms.ModelForm):
    industry = IndustryChoiceField(
        label=_("Industry (GB/T 4754-2017)"), required=False,
        queryset=Industry.objects.filter(level=Industry.Level.DIVISION).order_by("code"),
    )
    chain_node = forms.ModelChoiceField(label=_("Chain node"), required=False,
                                        queryset=ChainNode.objects.all())
    chain_role = forms.ChoiceField(label=_("Role on the chain"), required=False,
                                   choices=[("", "---------")] + ChainRole.choices)
    tags_text = forms.CharField(label=_("Tags"), required=False,
                                help_text=_("Separate tags with commas."))

    class Meta:
        model = Company
        fields = ["name", "uscc", "industry", "registered_capital_wan", "hq_region_name",
                  "hq_region_code", "source_region", "website", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            link = self.instance.chain_links.select_related("node").first()
            if link:
                self.initial.setdefault("chain_node", link.node)
                self.initial.setdefault("chain_role", link.role)
            self.initial.setdefault(
                "tags_text", ", ".join(t.name for t in self.instance.tags.all()))

    def clean_uscc(self):
        value = normalize_uscc(self.cleaned_data.get("uscc"))
        if value:
            validate_uscc(value)
        return value or None

    def clean(self):
        data = super().clean()
        if bool(data.get("chain_node")) != bool(data.get("chain_role")):
            raise ValidationError(_("Choose both a chain node and the company's role on it."))
        return data

    def _post_clean(self):
        # Uniqueness is the service's job (it names the existing record and its owner).
        pass

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        node, role = data.pop("chain_node", None), data.pop("chain_role", "")
        tags_text = data.pop("tags_text", "")
        data["chain_links"] = [(node, role)] if node else []
        data["tag_names"] = [t.strip() for t in tags_text.replace("，", ",").split(",")
                             if t.strip()]
        return data


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "phone", "email", "is_primary"]


class QualificationForm(forms.ModelForm):
    class Meta:
        model = Qualification
        fields = ["kind", "level", "certificate_no", "issued_on", "expires_on"]
        widgets = {"issued_on": DATE_INPUT, "expires_on": DATE_INPUT}


class ProjectForm(forms.ModelForm):
    stage = forms.ModelChoiceField(
        label=_("Starting stage"), required=False, empty_label=None,
        queryset=Stage.objects.filter(is_active=True, kind=Stage.Kind.OPEN).order_by("order"),
    )

    class Meta:
        model = Project
        fields = ["company", "name", "owner", "collaborators", "stage", "channel", "referrer",
                  "agreed_investment_wan", "fixed_asset_wan", "funds_arrived_wan",
                  "expected_output_wan", "expected_tax_wan", "expected_jobs", "space_use",
                  "space_min_m2", "space_max_m2", "move_in_on", "intended_park", "next_step",
                  "next_step_on", "contract_start_on", "agreement", "confidential", "unit",
                  "team"]
        widgets = {"move_in_on": DATE_INPUT, "next_step_on": DATE_INPUT,
                   "contract_start_on": DATE_INPUT,
                   "collaborators": forms.SelectMultiple(attrs={"size": 4}),
                   "company": CompanySelect}

    def __init__(self, *args, can_change_team: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = project_holders()
        # Units as the tree reads (each under its parent), not in the order of their paths.
        for name in ("unit", "team"):
            field = self.fields[name]
            field.choices = tree_choices(field.queryset, field.empty_label)
        self.fields["collaborators"].queryset = project_holders()
        self.fields["owner"].required = False
        self.fields["next_step"].required = True
        self.fields["next_step_on"].required = True
        if self.instance.pk:
            del self.fields["stage"]
            del self.fields["company"]
            if not can_change_team:  # the service would refuse it (project_reassign)
                del self.fields["owner"]
                del self.fields["collaborators"]

    def clean_agreement(self):
        upload = self.cleaned_data.get("agreement")
        if upload and hasattr(upload, "content_type"):  # a new upload, not the stored file
            validate_upload(upload, allowed=AGREEMENT_TYPES)
        return upload

    def _post_clean(self):
        # The service validates the model (so the API and the import share the same rules).
        pass

    def service_kwargs(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k in self.fields}
        if not data.get("agreement"):
            data.pop("agreement", None)
        if not data.get("owner"):
            data.pop("owner", None)
        return data


class TeamForm(forms.Form):
    """Hand the project over or change its collaborators (leads.services.project_reassign)."""

    owner = forms.ModelChoiceField(label=_("Owner"), queryset=project_holders())
    collaborators = forms.ModelMultipleChoiceField(
        label=_("Collaborators"), queryset=project_holders(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(label=_("Move to"), queryset=Stage.objects.filter(
        is_active=True).order_by("order"), to_field_name="code")
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    lost_reason = forms.ModelChoiceField(label=_("Lost reason"), required=False,
                                         queryset=LostReason.objects.filter(is_active=True))
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=200)
    next_step_on = forms.DateField(label=_("Next step date"), required=False, widget=DATE_INPUT)


class FollowUpForm(forms.ModelForm):
    issue_description = forms.CharField(label=_("Issue raised"), required=False, max_length=300)
    issue_department = forms.CharField(label=_("Responsible department"), required=False,
                                       max_length=60)
    issue_due_on = forms.DateField(label=_("Issue due date"), required=False, widget=DATE_INPUT)

    class Meta:
        model = FollowUp
        fields = ["date", "kind", "our_participants", "leader_attended", "their_participants",
                  "summary", "next_step", "next_contact_on"]
        widgets = {"date": DATE_INPUT, "next_contact_on": DATE_INPUT,
                   "summary": forms.Textarea(attrs={"rows": 3}),
                   "our_participants": forms.SelectMultiple(attrs={"size": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["our_participants"].queryset = User.objects.filter(is_active=True)
        self.fields["our_participants"].required = False
        self.initial.setdefault("date", timezone.localdate())

    def _post_clean(self):
        pass

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        description = data.pop("issue_description", "")
        department = data.pop("issue_department", "")
        due_on = data.pop("issue_due_on", None)
        data["issues"] = ([{"description": description, "department": department,
                            "due_on": due_on, "status": FollowUpIssue.Status.OPEN}]
                          if description else [])
        data["our_participants"] = list(data.get("our_participants") or [])
        return data


# --- Administrators' settings screens (crm.core.setup_screens) ---------------------------------
class StageForm(ReferenceForm):
    class Meta:
        model = Stage
        fields = ["code", "name", "name_en", "kind", "order", "probability", "milestone",
                  "requires_agreement", "requires_uscc", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Imports, the demo and the API name stages by code: it stays what it was.
            self.fields["code"].disabled = True


class LostReasonForm(ReferenceForm):
    class Meta:
        model = LostReason
        fields = ["code", "name", "order", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
