""""Download my data": a client's responses as a FHIR R4 Bundle plus a readable summary.

The Bundle (type collection) holds, each entry under a `urn:uuid:` fullUrl so that every
reference resolves inside it:
- a Patient: minimal, no more than the client chooses to share: a pseudonymous identifier
  (their code here) and their language, and their name and preferred name only when they tick
  "include my name"; never contact details or a date of birth;
- the Questionnaires the responses answer: each instrument once, and for goal ratings one
  Questionnaire per episode whose items are that episode's goals;
- per stored response, a QuestionnaireResponse (subject: the Patient) and the Observations of
  its scores (subject: the Patient; derivedFrom: the response), LOINC-coded where the
  instrument's definition has a code.

Ids are stable: the Patient's and each response's are their codes, the rest derived from them,
so two exports of the same data carry the same ids. Every resource has generated narrative.
The FHIR resources come from `rapport.instruments.fhir`, the one implementation.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from rapport import instruments
from rapport.checkins.models import Response
from rapport.checkins.services.answers import GOAL_PROGRESS, goal_instrument
from rapport.core import i18n
from rapport.goals.services import goals_for_client
from rapport.instruments import fhir
from rapport.instruments.translation import localize
from rapport.notes.models import ClosingSummary
from rapport.notes.services import shared_records_for_client

PATIENT_SYSTEM = "urn:rapport:client"


def goal_titles(client) -> dict[str, str]:
    """{linkId: current wording} of every goal of the client's episodes (call inside its scope)."""
    from rapport.goals.models import Goal

    return {g.link_id: g.title for g in Goal.objects.filter(episode__client=client).order_by("pk")}


def _goals(titles: dict[str, str], link_ids, language: str | None = None) -> instruments.Instrument:
    """The goals as items in one fixed order (the order the goals were set; any the practice no
    longer has, last): stored answers carry no order of their own (PostgreSQL's jsonb sorts
    keys), and a response's items must follow its Questionnaire's."""
    rank = {k: n for n, k in enumerate(titles)}
    ordered = sorted(link_ids, key=lambda k: (rank.get(k, len(rank)), k))
    return goal_instrument({k: titles.get(k, _("A goal")) for k in ordered}, language)


def _instrument(response: Response, titles: dict[str, str],
                language: str | None = None) -> instruments.Instrument | None:
    """The instrument the response answered (goal-progress: one item per goal rated, with the
    goal's wording), in `language` where its definition has it (the FHIR export: the
    definition's own words); None when the practice no longer has its definition."""
    try:
        if response.instrument_id == GOAL_PROGRESS:
            return _goals(titles, response.answers, language)
        return localize(instruments.load(response.instrument_id), language)
    except (instruments.UnknownInstrument, instruments.DefinitionError, ValueError):
        return None


def _answers(response: Response) -> dict[str, Any]:
    return {**response.answers, **response.free_text_answers}


def _goal_questionnaire_id(response: Response) -> str:
    return f"{GOAL_PROGRESS}-{response.episode.code}"


def patient(client, *, include_name: bool = False, validate: bool = True) -> dict[str, Any]:
    """The client as a minimal FHIR Patient (see the module's docstring for what is left out)."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(client.code),
        "text": fhir.narrative(client.display_name if include_name else "A client (name not shared)"),
        "identifier": [{"system": PATIENT_SYSTEM, "value": str(client.code)}],
    }
    if include_name:
        resource["name"] = [{"use": "official", "text": client.name}]
        if client.preferred_name and client.preferred_name != client.name:
            resource["name"].append({"use": "usual", "text": client.preferred_name})
    if client.language:
        resource["communication"] = [{"language": {"coding": [
            {"system": "urn:ietf:bcp:47", "code": client.language}]}, "preferred": True}]
    if validate:
        fhir.validate_resource(resource)
    return resource


def resources(response: Response, titles: dict[str, str], subject: str | None = None,
              *, validate: bool = True) -> list[dict[str, Any]]:
    """The response as a QuestionnaireResponse followed by the Observations of its scores."""
    instrument = _instrument(response, titles)
    answers = _answers(response)
    authored = response.submitted_at.isoformat()
    code = str(response.code)
    if instrument is None:
        # The definition is gone: the answers are still the client's, exported as they were,
        # with no Questionnaire to conform to (so the canonical is not resolvable here).
        qr = {
            "resourceType": "QuestionnaireResponse", "id": code,
            "text": fhir.narrative(f"Answers to {response.instrument_id}, "
                                   "whose definition this practice no longer has"),
            "questionnaire": f"{fhir.CANONICAL_PREFIX}{response.instrument_id}|"
                             f"{response.instrument_version}",
            "status": "completed", "authored": authored,
            "item": [{"linkId": k, "answer": [{"valueString": str(v)}]} for k, v in answers.items()],
        }
        if subject:
            qr["subject"] = {"reference": subject}
        return [qr]
    qid = _goal_questionnaire_id(response) if response.instrument_id == GOAL_PROGRESS else None
    # The version the client answered, which may be older than the current definition.
    reference = f"{fhir.CANONICAL_PREFIX}{qid or instrument.id}|{response.instrument_version}"
    qr = fhir.questionnaire_response(instrument, answers, id=code, authored=authored,
                                     subject=subject, questionnaire=reference, validate=validate)
    score = instrument.score(answers)
    return [qr, *fhir.observations(instrument, score, response_id=code, derived_from=f"urn:uuid:{code}",
                                   subject=subject, effective=authored, validate=validate)]


def questionnaires(responses: list[Response], titles: dict[str, str], *, validate: bool = True
                   ) -> list[dict[str, Any]]:
    """The Questionnaires the responses answer: each instrument once; goal ratings per episode."""
    found: dict[str, dict[str, Any]] = {}
    goals: dict[str, dict[str, None]] = {}
    for r in responses:
        if r.instrument_id == GOAL_PROGRESS:
            goals.setdefault(_goal_questionnaire_id(r), {}).update(dict.fromkeys(r.answers))
        elif r.instrument_id not in found:
            instrument = _instrument(r, titles)
            if instrument is not None:
                found[r.instrument_id] = fhir.questionnaire(instrument, validate=validate)
    for qid, link_ids in goals.items():
        found[qid] = fhir.questionnaire(_goals(titles, link_ids), id=qid, validate=validate)
    return list(found.values())


def bundle(responses: list[Response], titles: dict[str, str] | None = None, client=None, *,
           include_name: bool = False) -> dict[str, Any]:
    """A FHIR R4 Bundle (type collection), checked against the FHIR R4B models; with the
    client's Patient when `client` is given (named only with `include_name`)."""
    titles = titles or {}
    entries = []
    subject = None
    if client is not None:
        resource = patient(client, include_name=include_name, validate=False)
        subject = f"urn:uuid:{resource['id']}"
        entries.append({"fullUrl": subject, "resource": resource})
    # Each resource is checked once, as part of the Bundle below (checking each on its own
    # first doubled the time of a long history's export).
    for q in questionnaires(responses, titles, validate=False):
        entries.append({"fullUrl": f"urn:uuid:{fhir.stable_id('Questionnaire', q['url'])}",
                        "resource": q})
    for r in responses:
        for resource in resources(r, titles, subject, validate=False):
            entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    data = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": entries,
    }
    fhir.validate_resource(data)  # raises if the export is not valid FHIR
    return data


def _stamp(value) -> str:
    """A time as the reader writes it ("5 December 2026, 09:30"; "5 de diciembre de 2026, 09:30")."""
    return formats.date_format(timezone.localtime(value), _("j F Y, H:i"))


def _number(value: float) -> str:
    """9.0 as "9", 7.5 as "7.5" (or "7,5": the reader's decimal separator)."""
    return f"{value:g}".replace(".", formats.get_format("DECIMAL_SEPARATOR"))


def _day(iso: str | None) -> str:
    """A day from records()' ISO timestamps, as the reader writes it."""
    return formats.date_format(datetime.fromisoformat(iso), _("j F Y")) if iso else ""


def summary(client, responses: list[Response], titles: dict[str, str] | None = None) -> str:
    """The same responses in words, for a person to read, in the active language."""
    titles = titles or {}
    lines = [
        _("Your check-in answers at %(practice)s") % {"practice": client.organisation.name},
        _("Prepared %(when)s") % {"when": _stamp(timezone.now())},
        "",
    ]
    if not responses:
        lines.append(_("You have not answered any check-ins yet."))
    for r in responses:
        instrument = _instrument(r, titles, translation.get_language())
        title = instrument.title if instrument else r.instrument_id
        lines.append(f"{_stamp(r.submitted_at)} - {title}")
        if r.total is not None:
            score = _("Score: %(total)s") % {"total": _number(r.total)}
            band = f" ({i18n.severity(r.severity_label)})" if r.severity_label else ""
            lines.append(f"  {score}{band}")
        for link_id, value in _answers(r).items():
            text = link_id
            if instrument is not None:
                try:
                    item = instrument.item(link_id)
                    text = item.text
                    if item.kind == "choice":
                        value = next((o.display for o in item.options if o.value == value), value)
                except KeyError:
                    pass
            lines.append(f"  {text}: {value}")
        lines.append("")
    return "\n".join(lines) + "\n"


def records(client, request=None) -> dict[str, Any]:
    """What else the client sees in the portal: their goals (with ratings and milestones), the
    session summaries, next steps and homework shared with them, and closing summaries."""
    def when(value):
        return timezone.localtime(value).isoformat() if value else None

    return {
        "goals": [{"title": g.title, "description": g.description, "status": g.status_label,
                   "proposed_by": g.proposed_by, "closed_at": when(g.closed_at),
                   "ratings": [{"at": when(at), "rating": r} for at, r in g.progress],
                   "milestones": [{"at": when(at), "text": t} for at, t in g.milestones]}
                  for g in goals_for_client(client, request)],
        "sessions": [{"session_at": when(r.session_at), "therapist": r.therapist,
                      "summary": r.summary, "next_steps": r.next_steps,
                      "homework": [{"text": h.text, "done_at": when(h.done_at)} for h in r.homework]}
                     for r in reversed(shared_records_for_client(client, request))],
        "closing_summaries": [{"at": when(c.created_at), "therapist": str(c.episode.therapist),
                               "text": c.text}
                              for c in ClosingSummary.objects.filter(episode__client=client)
                              .select_related("episode__therapist").order_by("created_at")],
    }


def records_text(data: dict[str, Any]) -> str:
    """The same records in words, appended to summary.txt, in the active language."""
    lines = [_("Your goals"), ""]
    for g in data["goals"] or [{"title": _("No goals yet."), "status": "", "ratings": [],
                                 "milestones": [], "description": ""}]:
        lines.append(f"- {g['title']}" + (f" ({g['status']})" if g["status"] else ""))
        if g["description"]:
            lines.append(f"  {g['description']}")
        lines += ["  " + _("Rated %(rating)s on %(day)s") % {
            "rating": _number(r["rating"]), "day": _day(r["at"])} for r in g["ratings"]]
        lines += ["  " + _("Milestone %(day)s: %(text)s") % {"day": _day(m["at"]), "text": m["text"]}
                  for m in g["milestones"]]
    lines += ["", _("Session summaries, next steps and homework"), ""]
    if not data["sessions"]:
        lines.append(_("No session summaries shared with you yet."))
    for r in data["sessions"]:
        lines.append(_("Session on %(day)s with %(therapist)s") % {
            "day": _day(r["session_at"]), "therapist": r["therapist"]})
        for label, key in ((_("Summary"), "summary"), (_("Next steps"), "next_steps")):
            if r[key]:
                lines.append(f"  {label}: {r[key]}")
        for h in r["homework"]:
            done = (_("done %(day)s") % {"day": _day(h["done_at"])} if h["done_at"]
                    else _("not done yet"))
            lines.append("  " + _("Homework: %(text)s (%(done)s)") % {"text": h["text"], "done": done})
        lines.append("")
    for c in data["closing_summaries"]:
        lines += [_("Closing summary from %(therapist)s, %(day)s") % {
            "therapist": c["therapist"], "day": _day(c["at"])}, f"  {c['text']}", ""]
    return "\n".join(lines) + "\n"


def archive(client, responses: list[Response], *, include_name: bool = False,
            request=None) -> bytes:
    """A zip with responses.fhir.json (FHIR R4 Bundle), records.json (goals, shared summaries,
    homework, closing summaries) and summary.txt, all inside the client's scope."""
    titles = goal_titles(client)
    extra = records(client, request)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("responses.fhir.json",
                    json.dumps(bundle(responses, titles, client, include_name=include_name), indent=2, ensure_ascii=False))
        zf.writestr("records.json", json.dumps(extra, indent=2, ensure_ascii=False, default=str))  # labels are lazy translations
        zf.writestr("summary.txt", summary(client, responses, titles) + "\n" + records_text(extra))
    return buffer.getvalue()
