"""Importing clients and their answers from another system: all of a file, or none of it.

Two kinds of file:
- a CSV of clients (columns in rapport.care.imports.CSV_COLUMNS), each with a first episode;
- FHIR R4 JSON: a Bundle (of any type) or a single resource, holding Patients (new clients, each
  with a first episode with the given therapist) and QuestionnaireResponses, answering one of
  our Questionnaires or coded with LOINC (rapport.instruments.fhir.read_questionnaire_response).
  A response's subject is a Patient of the same file, or the client named on the command line.
  Observations and Questionnaires are not stored: every score is computed again by the
  instruments library, as for any check-in. Goal ratings bring their goals: each goal they rate
  becomes an agreed goal of the client here, in its own words, and the ratings its goal-progress
  responses (rapport.checkins.import_goals).

`plan_csv` / `plan_fhir` check everything and change nothing: the plan lists what would be
created, what was imported before (skipped, so importing a file twice stores nothing twice),
what is ignored, and every refused row with its reason. `apply` creates nothing unless nothing
was refused, and then creates everything in one transaction, each response through
`submit` (validated, scored, audited, risk-alerted as any other) and recorded with
its source in `ImportedRecord`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from rapport import instruments
from rapport.audit.services import record
from rapport.care import imports as clients
from rapport.care.models import CareEpisode, Client
from rapport.checkins import import_goals
from rapport.checkins.models import ImportedRecord, ImportSource, Respondent
from rapport.checkins.services.answers import GOAL_PROGRESS
from rapport.checkins.services.submission import Source, submit
from rapport.instruments import fhir

READ = ("Patient", "QuestionnaireResponse", "Questionnaire")


class ImportRefused(Exception):
    """The plan refused something, so nothing was imported."""


@dataclass
class NewResponse:
    where: str
    source_id: str
    instrument: instruments.Instrument
    answers: dict[str, Any]
    authored: datetime
    total: float | None
    new_client: clients.NewClient | None = None  # a client this import creates
    client: Client | None = None  # or one the practice has
    goals: dict[str, str] | None = None  # goal-progress: {linkId here: the goal's words}

    def describe(self) -> str:
        who = self.new_client.fields["name"] if self.new_client else self.client.name
        total = "" if self.total is None else f", total {self.total:g}"
        return f"{self.instrument.id} response of {self.authored:%Y-%m-%d %H:%M} for {who}{total}"


@dataclass
class Plan:
    source: str
    clients: list[clients.NewClient] = field(default_factory=list)
    responses: list[NewResponse] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    goals: dict[str, import_goals.NewGoal] = field(default_factory=dict)  # by code
    # client pk -> the Patient it was imported from, for a client imported before
    patient_keys: dict[int, str] = field(default_factory=dict)

    @property
    def new_goals(self) -> list[import_goals.NewGoal]:
        return [g for g in self.goals.values() if not g.existing]

    def report(self) -> list[str]:
        """What would be (or was) created, skipped, ignored and refused, one line each."""
        lines = [f"create {c.where}: {c.describe()}" for c in self.clients]
        for g in self.goals.values():
            who = g.owner.fields["name"] if isinstance(g.owner, clients.NewClient) else g.owner.name
            lines.append(f"{'skip' if g.existing else 'create'} {g.where}: {g.describe(who)}"
                         + (", imported before" if g.existing else ""))
        lines += [f"create {r.where}: {r.describe()}" for r in self.responses]
        lines += [f"skip {line}" for line in self.skipped]
        lines += [f"ignore {line}" for line in self.ignored]
        lines += [f"REFUSE {where}: {why}" for where, why in self.refused]
        return lines


# -- CSV ----------------------------------------------------------------------------------------


def plan_csv(text: str, organisation, *, therapist=None) -> Plan:
    """The clients a CSV would create (call inside the practice's scope)."""
    plan = Plan(ImportSource.CSV)
    try:
        rows = clients.read_csv(text)
    except ValueError as e:
        plan.refused.append(("file", str(e)))
        return plan
    if not rows:
        plan.refused.append(("file", "no rows"))
    team = clients.therapists(organisation)
    taken = clients.emails_in_use(organisation)
    for where, row in rows:
        outcome = clients.check(where, row, organisation, therapist=therapist, team=team, taken=taken)
        if isinstance(outcome, str):
            plan.refused.append((where, outcome))
        else:
            plan.clients.append(outcome)
    return plan


# -- FHIR ---------------------------------------------------------------------------------------


def _entries(data: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """[(where, fullUrl, resource)] of a Bundle, or of a single resource. ValueError if neither."""
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise ValueError("not a FHIR resource (a JSON object with a resourceType)")
    if data["resourceType"] != "Bundle":
        return [("resource", "", data)]
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise ValueError("Bundle.entry must be a list")
    result = []
    for n, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            result.append((f"entry {n}", "", {}))
            continue
        kind, rid = resource.get("resourceType"), resource.get("id")
        where = f"entry {n} ({kind}/{rid})" if rid else f"entry {n} ({kind})"
        result.append((where, str(entry.get("fullUrl", "")), resource))
    return result


def _source_id(resource: Mapping[str, Any], full_url: str) -> str:
    """How the resource is known in its file: its identifier, else its id, else its fullUrl."""
    kind = resource.get("resourceType")
    identifier = resource.get("identifier")
    if isinstance(identifier, list):  # Patient: a list; QuestionnaireResponse: one
        identifier = identifier[0] if identifier else None
    if isinstance(identifier, dict) and identifier.get("value"):
        return f"{kind}?identifier={identifier.get('system', '')}|{identifier['value']}"[:300]
    if resource.get("id"):
        return f"{kind}/{resource['id']}"[:300]
    return full_url[:300]


def _authored(value: Any) -> datetime | str:
    if not isinstance(value, str) or not value:
        return "authored is missing: when the questionnaire was answered is needed"
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value) if len(value) == 10 else None
        if day is None:
            return f"authored {value!r} is not a FHIR dateTime"
        moment = datetime.combine(day, time(12), tzinfo=UTC)
    if timezone.is_naive(moment):
        return f"authored {value!r} has a time but no time zone"
    if moment > timezone.now():
        return f"authored {value!r} is in the future"
    return moment


def plan_fhir(data: Any, organisation, *, therapist=None, client: Client | None = None) -> Plan:
    """What a FHIR file would create (call inside the practice's scope).

    `therapist` becomes the therapist of the clients made from Patients; `client` receives the
    responses that name no subject.
    """
    plan = Plan(ImportSource.FHIR)
    try:
        entries = _entries(data)
    except ValueError as e:
        plan.refused.append(("file", str(e)))
        return plan
    done = dict(ImportedRecord.objects.filter(organisation=organisation)
                .values_list("source_id", "client_id"))
    patients = _plan_patients(plan, entries, organisation, therapist, done)
    questionnaires = {str(r.get("url")): r for _, _, r in entries
                      if r.get("resourceType") == "Questionnaire" and r.get("url") and _valid(r)}
    for where, full_url, resource in entries:
        kind = resource.get("resourceType")
        if kind == "Patient":
            continue
        if kind == "QuestionnaireResponse":
            _plan_response(plan, where, full_url, resource, questionnaires, patients, client, done,
                           organisation)
        elif kind in ("Questionnaire", "Observation"):
            plan.ignored.append(f"{where}: scores and questionnaires come from Rapport's own "
                                "instrument definitions")
        elif kind is None:
            plan.refused.append((where, "an entry without a resource"))
        else:
            plan.ignored.append(f"{where}: Rapport imports Patients and QuestionnaireResponses")
    import_goals.mark_existing(plan.goals, organisation)
    return plan


def _plan_patients(plan: Plan, entries, organisation, therapist,
                   done: dict[str, Any]) -> dict[str, clients.NewClient | Client | str]:
    """The file's Patients: each reference -> the client it becomes (new, or imported before), or
    where the Patient was refused (so that its responses can say why they cannot go)."""
    team = clients.therapists(organisation)
    taken = clients.emails_in_use(organisation)
    patients: dict[str, clients.NewClient | Client | str] = {}
    for where, full_url, resource in entries:
        if resource.get("resourceType") != "Patient":
            continue
        source_id = _source_id(resource, full_url)
        refs = [r for r in (full_url, f"Patient/{resource.get('id')}") if r]
        try:
            fhir.validate_resource(resource)
        except ValueError as e:
            plan.refused.append((where, str(e)[:500]))
            patients.update(dict.fromkeys(refs, where))
            continue
        if source_id in done:
            found = Client.objects.get(pk=done[source_id])
            plan.skipped.append(f"{where}: imported before as client {found.name}")
            plan.patient_keys[found.pk] = source_id
            patients.update(dict.fromkeys(refs, found))
            continue
        outcome = clients.check(where, clients.patient_fields(resource), organisation,
                                therapist=therapist, team=team, taken=taken, source_id=source_id)
        if isinstance(outcome, str):
            plan.refused.append((where, outcome))
            patients.update(dict.fromkeys(refs, where))
            continue
        plan.clients.append(outcome)
        patients.update(dict.fromkeys(refs, outcome))
    return patients


def _valid(resource: Mapping[str, Any]) -> bool:
    try:
        fhir.validate_resource(resource)
    except ValueError:
        return False
    return True


def _target(plan: Plan, where: str, resource: dict[str, Any], patients: dict,
            client: Client | None) -> clients.NewClient | Client | None:
    """The client a response goes to (its subject, or the one named), or None when refused."""
    subject = (resource.get("subject") or {}).get("reference")
    target = patients.get(subject) if subject else client
    if isinstance(target, str):
        plan.refused.append((where, f"its subject, {target}, is refused"))
        return None
    if target is None:
        why = (f"its subject {subject!r} is not a Patient in this file" if subject
               else "it names no subject; give the client it belongs to (--client)")
        plan.refused.append((where, why))
    return target


def _plan_response(plan: Plan, where: str, full_url: str, resource: dict[str, Any],
                   questionnaires: dict, patients: dict, client: Client | None, done: dict,
                   organisation) -> None:
    try:
        fhir.validate_resource(resource)  # from here on, every element has its FHIR shape
    except ValueError as e:
        plan.refused.append((where, str(e)[:500]))
        return
    source_id = _source_id(resource, full_url)
    if source_id in done:
        plan.skipped.append(f"{where}: imported before")
        return
    if resource.get("status") not in ("completed", "amended"):
        plan.refused.append((where, f"status {resource.get('status')!r}: only completed (or "
                                    "amended) responses are imported"))
        return
    target = _target(plan, where, resource, patients, client)
    if target is None:
        return
    try:
        instrument, answers = fhir.read_questionnaire_response(resource, questionnaires)
    except instruments.UnknownInstrument as e:
        plan.refused.append((where, str(e)))
        return
    except ValueError as e:
        plan.refused.append((where, str(e)[:500]))
        return
    if (instrument.respondent or Respondent.CLIENT) != Respondent.CLIENT:
        plan.refused.append((where, f"{instrument.id} is answered by a therapist; only a "
                                    "client's answers are imported"))
        return
    authored = _authored(resource.get("authored"))
    if isinstance(authored, str):
        plan.refused.append((where, authored))
        return
    new = target if isinstance(target, clients.NewClient) else None
    goals = None
    if instrument.id == GOAL_PROGRESS:
        key = (new.source_id or new.where) if new else plan.patient_keys.get(target.pk,
                                                                             str(target.code))
        outcome = import_goals.plan(where, resource, answers, questionnaires=questionnaires,
                                    owner=target, owner_key=key, organisation=organisation,
                                    authored=authored, goals=plan.goals)
        if isinstance(outcome, str):
            plan.refused.append((where, outcome))
            return
        answers, goals, instrument = outcome
    score = instrument.score(answers)
    problems = [str(e) for e in score.errors]
    problems += [f"{i.link_id}: required, not answered" for i in instrument.items
                 if i.required and not i.template and i.link_id not in score.answers
                 and not any(e.link_id == i.link_id for e in score.errors)]
    if problems:
        plan.refused.append((where, "; ".join(problems)[:1000]))
        return
    plan.responses.append(NewResponse(where, source_id, instrument, answers, authored, score.total,
                                      new_client=new, client=None if new else target, goals=goals))
    done[source_id] = None  # a second copy in the same file is skipped too


# -- applying -----------------------------------------------------------------------------------


def _episode(client: Client) -> CareEpisode | None:
    return CareEpisode.objects.filter(client=client).order_by("-started_on", "-id").first()


def _episode_of(client: Client, episodes: dict[int, CareEpisode], where: str) -> CareEpisode:
    """The episode this import made for the client, else their latest; ImportRefused if none."""
    episode = episodes.get(client.pk) or _episode(client)
    if episode is None:
        raise ImportRefused(f"{where}: {client.name} has no episode to store it in")
    return episode


def apply(plan: Plan, organisation, *, actor_label: str) -> dict[str, int]:
    """Create what the plan lists, all in one transaction; ImportRefused (nothing created)
    when the plan refused anything. Call inside the practice's scope."""
    if plan.refused:
        raise ImportRefused(f"{len(plan.refused)} refused; nothing imported")
    with transaction.atomic():
        episodes: dict[int, CareEpisode] = {}
        for new in plan.clients:
            made, episode = clients.create(new, organisation, actor_label=actor_label)
            episodes[made.pk] = episode
            if new.source_id:
                ImportedRecord.objects.create(organisation=organisation, client=made,
                                              source=plan.source, source_id=new.source_id)
        for goal in plan.new_goals:
            client = goal.owner.client if isinstance(goal.owner, clients.NewClient) else goal.owner
            import_goals.create(goal, _episode_of(client, episodes, goal.where),
                                actor_label=actor_label)
        for item in plan.responses:
            client = item.new_client.client if item.new_client else item.client
            stored = submit(_episode_of(client, episodes, item.where), item.instrument.id,
                            item.answers, goals=item.goals,
                            source=Source(at=item.authored, actor_label=actor_label))
            ImportedRecord.objects.create(organisation=organisation, client=client,
                                          response=stored.response, source=plan.source,
                                          source_id=item.source_id)
        counts = {"clients": len(plan.clients), "goals": len(plan.new_goals),
                  "responses": len(plan.responses), "skipped": len(plan.skipped)}
        record(None, "checkins.import.applied", organisation=organisation,
               actor_label=actor_label, detail={"source": plan.source, **counts})
    return counts
