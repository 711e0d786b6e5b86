"""Clients from another system: rows of a CSV file or FHIR Patients, checked before anything is made.

`read_csv` and `patient_fields` turn input into a client's fields; `check` validates them
against the practice (a therapist of this practice, no second client with the same email) and
says why a row is refused; `create` makes the client and their first episode, audited. The
caller (rapport.checkins.imports, which also imports responses) plans a whole file first and
creates nothing unless every row is accepted, in one transaction.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.accounts.models import Role, User
from rapport.audit.services import record
from rapport.care.models import CareEpisode, Client

CSV_COLUMNS = ("name", "preferred_name", "pronouns", "language", "email", "phone",
               "date_of_birth", "therapist")
MAX_ROWS = 10_000
# BCP 47 in its common shape: a 2-8 letter primary subtag, then subtags of 1-8 letters/digits.
LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


class ClientForm(forms.Form):
    """The fields a client is imported with; the limits are the model's."""

    name = forms.CharField(max_length=200)
    preferred_name = forms.CharField(max_length=100, required=False)
    pronouns = forms.CharField(max_length=50, required=False)
    language = forms.CharField(max_length=35, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=40, required=False)
    date_of_birth = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def clean_language(self) -> str:
        value = self.cleaned_data["language"] or "en"
        if not LANGUAGE.match(value):
            raise forms.ValidationError(
                _("%(value)s is not a language tag such as en or es-MX") % {"value": repr(value)})
        return value

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        if value is not None and value > timezone.localdate():
            raise forms.ValidationError(_("is in the future"))
        return value


@dataclass
class NewClient:
    """A client to create: where it came from, its fields and its therapist."""

    where: str
    fields: dict[str, Any]
    therapist: User
    source_id: str = ""  # a Patient's id in the file; "" for a CSV row
    client: Client | None = field(default=None, repr=False)  # set once created

    def describe(self) -> str:
        return f"client {self.fields['name']} (therapist {self.therapist.email})"


def read_csv(text: str) -> list[tuple[str, dict[str, str]]]:
    """[(where, row)] from CSV text with a header naming CSV_COLUMNS (name is required).

    Raises ValueError for a file that cannot be read as such a table at all.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as e:
        raise ValueError(f"line 1: {e}") from None
    if "name" not in header:
        raise ValueError(f"the first line must name the columns, including name; allowed: "
                         f"{', '.join(CSV_COLUMNS)}")
    if len(set(header)) != len(header):
        raise ValueError("a column is named twice in the first line")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise ValueError(f"unknown columns {', '.join(unknown)}; allowed: {', '.join(CSV_COLUMNS)}")
    rows = []
    try:
        for raw in reader:
            if len(rows) >= MAX_ROWS:
                raise ValueError(f"more than {MAX_ROWS} rows; split the file")
            if None in raw:
                rows.append((f"line {reader.line_num}", {"__error__": "more cells than columns"}))
                continue
            row = {k.strip(): (v or "").strip() for k, v in raw.items()}
            if any(row.values()):
                rows.append((f"line {reader.line_num}", row))
    except csv.Error as e:
        raise ValueError(f"line {reader.line_num}: {e}") from None
    return rows


def patient_fields(resource: Mapping[str, Any]) -> dict[str, str]:
    """A FHIR Patient's name, preferred name, language, email, phone and birth date as fields."""
    def dicts(key: str) -> list[dict]:  # malformed input ({"name": null}) reads as none
        value = resource.get(key)
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    names = dicts("name")

    def text(name: Mapping[str, Any]) -> str:
        if name.get("text"):
            return str(name["text"])
        given = name.get("given")
        given = given if isinstance(given, list) else []
        return " ".join([*map(str, given), str(name.get("family") or "")]).strip()

    official = next((n for n in names if n.get("use") in (None, "official")), names[0] if names else {})
    usual = next((n for n in names if n.get("use") == "usual"), None)
    fields = {"name": text(official), "preferred_name": text(usual) if usual else ""}
    for comm in dicts("communication"):
        language = comm.get("language")
        codings = language.get("coding") if isinstance(language, dict) else None
        for coding in codings if isinstance(codings, list) else []:
            if isinstance(coding, dict) and coding.get("code"):
                fields["language"] = str(coding["code"])
                break
    for point in dicts("telecom"):
        if point.get("system") == "email" and "email" not in fields:
            fields["email"] = str(point.get("value", ""))
        if point.get("system") in ("phone", "sms") and "phone" not in fields:
            fields["phone"] = str(point.get("value", ""))
    if resource.get("birthDate"):
        fields["date_of_birth"] = str(resource["birthDate"])
    return fields


def therapists(organisation) -> dict[str, User]:
    """{email: user} of the practice's therapists."""
    users = User.objects.filter(memberships__organisation=organisation,
                                memberships__role=Role.THERAPIST, is_active=True)
    return {u.email: u for u in users}


def check(where: str, row: Mapping[str, str], organisation, *, therapist: User | None,
          team: Mapping[str, User], taken: set[str], source_id: str = "") -> NewClient | str:
    """The client to create from one row, or the reason it is refused.

    `therapist` is used when the row names none; `taken` holds the emails already used in the
    practice or earlier in the file (updated with this row's).
    """
    if "__error__" in row:
        return row["__error__"]
    form = ClientForm({k: v for k, v in row.items() if k != "therapist"})
    if not form.is_valid():
        return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
    named = row.get("therapist", "").strip().lower()
    if named:
        therapist = team.get(named)
        if therapist is None:
            return f"therapist: {named} is not a therapist of this practice"
    if therapist is None:
        return "therapist: none named (give a therapist column or --therapist)"
    email = form.cleaned_data["email"]
    if email and email in taken:
        return f"email: {email} is already a client's address in this practice or this file"
    if email:
        taken.add(email)
    return NewClient(where, form.cleaned_data, therapist, source_id)


def emails_in_use(organisation) -> set[str]:
    return {e.lower() for e in Client.objects.filter(organisation=organisation)
            .exclude(email="").values_list("email", flat=True)}


def create(new: NewClient, organisation, *, actor_label: str) -> tuple[Client, CareEpisode]:
    """Create the client and their first episode with the therapist (call inside a transaction)."""
    client = Client.objects.create(organisation=organisation, **new.fields)
    episode = CareEpisode.objects.create(organisation=organisation, client=client,
                                         therapist=new.therapist)
    record(None, "care.client.imported", client, organisation=organisation,
           actor_label=actor_label, detail={"from": new.where, "episode": str(episode.code)})
    new.client = client
    return client, episode
