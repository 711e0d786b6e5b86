"""Model fields shared by the apps: encrypted text and its keyed blind index."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core import validators
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull
from django.utils.functional import cached_property

from rapport.core import blind_index, crypto


class _EmptyOnlyExact(Exact):
    """`field=""` (nothing written) is the one comparison an encrypted column can answer."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError(_NOT_SEARCHABLE.format(field=self.lhs.target.name))
        return super().get_prep_lookup()


_NOT_SEARCHABLE = (
    "{field} is encrypted at rest: SQL cannot compare or search it (each value is encrypted with "
    "a fresh nonce). Match its blind index (rapport.core.blind_index) or compare after decrypting."
)


class EncryptedTextField(models.TextField):
    """Free text encrypted at rest (see rapport.core.crypto).

    The empty string is stored as is, so "nothing written" stays cheap to query; anything else is
    stored only as a Fernet token. Encrypted columns cannot be searched or sorted in SQL: any
    lookup but `=""` and `isnull` raises FieldError rather than silently matching nothing.
    """

    description = "Text encrypted at rest"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(_NOT_SEARCHABLE.format(field=self.name))

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)


class EncryptedCharField(EncryptedTextField):
    """A short encrypted value (a name, a phone number): its plain text is limited to max_length
    and edited in a one-line input. The column itself is text (a token is longer than its text)."""

    description = "Short text encrypted at rest"

    @cached_property
    def validators(self):
        extra = [validators.MaxLengthValidator(self.max_length)] if self.max_length else []
        return [*super().validators, *extra]

    def formfield(self, **kwargs):
        return models.Field.formfield(self, **{"max_length": self.max_length, **kwargs})


class EncryptedEmailField(EncryptedCharField):
    description = "E-mail address encrypted at rest"
    default_validators = [validators.validate_email]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.EmailField, **kwargs})


class EncryptedDateField(models.DateField):
    """A date encrypted at rest (a date of birth): the column holds a token of its ISO form, NULL
    stays NULL. Only `isnull` can be asked of it in SQL."""

    description = "Date encrypted at rest"

    def get_internal_type(self):
        return "TextField"

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(_NOT_SEARCHABLE.format(field=self.name))

    def from_db_value(self, value, expression, connection):
        return None if value is None else date.fromisoformat(crypto.decrypt(value))

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        return None if value is None else crypto.encrypt(value.isoformat())


class BlindIndexField(models.CharField):
    """The keyed blind index of another field of the same model, recomputed on every save.

    `source` names the encrypted field, `kind` its normalisation (rapport.core.blind_index).
    Search with `<field>__in=blind_index.candidates(kind, value)`. Code that writes the source
    with QuerySet.update() must set the index itself.
    """

    def __init__(self, *args, source: str, kind: str, **kwargs):
        if kind not in blind_index.KINDS:
            raise ValueError(f"unknown blind index kind: {kind}")
        self.source, self.kind = source, kind
        kwargs.update(max_length=64, blank=True, default="", editable=False, db_index=True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key in ("max_length", "blank", "default", "editable", "db_index"):
            kwargs.pop(key, None)
        return name, path, args, {**kwargs, "source": self.source, "kind": self.kind}

    def index_of(self, instance) -> str:
        return blind_index.compute(self.kind, getattr(instance, self.source))

    def pre_save(self, model_instance, add):
        value = self.index_of(model_instance)
        setattr(model_instance, self.attname, value)
        return value


def encrypted_fields():
    """Every (model, field) pair that stores encrypted values, across installed apps."""
    yield from _fields_of_type((EncryptedTextField, EncryptedDateField))


def blind_index_fields():
    """Every (model, field) pair that stores a blind index, across installed apps."""
    yield from _fields_of_type(BlindIndexField)


def _fields_of_type(kind):
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, kind):
                yield model, field
