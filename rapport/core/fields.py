"""Model fields shared by the apps."""

from __future__ import annotations

from django.db import models

from rapport.core import crypto


class EncryptedTextField(models.TextField):
    """Free text encrypted at rest (see rapport.core.crypto).

    The empty string is stored as is, so "nothing written" stays cheap to query; anything else is
    stored only as a Fernet token. Encrypted columns cannot be searched or sorted in SQL.
    """

    description = "Text encrypted at rest"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)


def encrypted_fields():
    """Every (model, field) pair that stores encrypted text, across installed apps."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field
