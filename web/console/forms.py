"""Form helpers shared by the console views.

WTForms checks shapes (required, a number, a date); the rules themselves live in
trace/, keys/ and stamps/, and their errors come back to the form through
:func:`rule_error`.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField, HiddenField

from ocop.trace.errors import DomainError, InvalidRecord
from ocop.workflows.errors import InvalidInput

from ..guards import has_control_characters
from ..messages import say

_PATH_FIELD = re.compile(r"^\$\.[a-z_]+\[\d+\]\.([a-z_]+)")


class Form(FlaskForm):
    """A console form: CSRF-protected (Flask-WTF), fields stripped of spaces."""

    class Meta:
        def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
            # Enclosures (FormField, FieldList) take no filters; their fields get them.
            # The unbound field is shared by every instance of the form: never change it.
            if issubclass(unbound_field.field_class, (FormField, FieldList)):
                return unbound_field.bind(form=form, **options)
            filters = (*unbound_field.kwargs.get("filters", ()), strip)
            return unbound_field.bind(form=form, filters=filters, **options)


    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        # Nothing a person types holds control characters; PostgreSQL refuses a NUL.
        for field in self:
            if isinstance(field.data, str) and has_control_characters(field.data, "\r\n\t"):
                field.errors = [*field.errors, _("Có ký tự điều khiển không nhìn thấy; xin xóa.")]
                valid = False
        return valid


class OnceForm(Form):
    """A form that may be submitted only once: a second POST of it finds the first."""

    nonce = HiddenField()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not self.nonce.data:
            self.nonce.data = secrets.token_urlsafe(24)


def strip(value: object) -> object:
    """A WTForms filter: text without the spaces around it, anything else as it is."""
    return value.strip() if isinstance(value, str) else value


def rule_error(form: Form, error: DomainError) -> None:
    """Attach a rule's error, in the reader's language, to the field it names (an
    import path's last part), or to the form as a whole."""
    field: Field | None = None
    if isinstance(error, InvalidInput) and error.field:
        field = form._fields.get(error.field)
    elif isinstance(error, InvalidRecord) and error.path:
        match = _PATH_FIELD.match(error.path)
        if match:
            field = form._fields.get(match.group(1))
    if field is not None:
        # Beside the field, the path is said by where the message stands.
        reason = error.reason if isinstance(error, InvalidRecord) else error
        field.errors = [*field.errors, say(reason)]  # type: ignore[assignment]
    else:
        form.form_errors.append(say(error))
