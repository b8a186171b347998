"""The floor's model pieces (no models of its own)."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import router
from django.utils.translation import get_language


class BilingualNameMixin:
    """Reference data kept in Chinese (`name`) with an English name (`name_en`): `label` is the
    one in the reader's language (the Chinese when no English is recorded), and so is str().
    Pages, exports and messages show `label`; searches and imports match either."""

    @property
    def label(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    def __str__(self) -> str:
        return self.label


class FieldConstraintsMixin:
    """Database constraints that speak on their field.

    Integrity lives in the constraints; the friendly check comes first, from the same
    constraint: full_clean() (which every write service calls) validates each constraint
    before the database would, and reports its violation_error_message on the field named in
    CONSTRAINT_FIELDS, so a form shows "the largest area cannot be below the smallest" under
    that field instead of a banner naming "project_space_range_ordered"."""

    CONSTRAINT_FIELDS: dict[str, str] = {}

    def validate_constraints(self, exclude=None):
        using = router.db_for_write(self.__class__, instance=self)
        errors: dict[str, list] = {}
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as error:
                    field = self.CONSTRAINT_FIELDS.get(constraint.name)
                    if field is None and getattr(error, "code", None) == "unique" \
                            and len(getattr(constraint, "fields", ())) == 1:
                        field = constraint.fields[0]
                    errors.setdefault(field or NON_FIELD_ERRORS, []).extend(error.error_list)
        if errors:
            raise ValidationError(errors)
