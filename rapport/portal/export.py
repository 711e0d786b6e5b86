""""Download my data": a client's responses as a FHIR Bundle plus a readable summary.

The FHIR resources come from `rapport.instruments.fhir`, the one implementation: each stored
response becomes a QuestionnaireResponse and its scores Observations (LOINC-coded where the
instrument's definition has a code, e.g. 44261-6 for the PHQ-9 total).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.utils import timezone

from rapport import instruments
from rapport.checkins.models import Response
from rapport.checkins.services.answers import GOAL_PROGRESS, goal_instrument
from rapport.instruments import fhir


def goal_titles(client) -> dict[str, str]:
    """{linkId: current wording} of every goal of the client's episodes (call inside its scope)."""
    from rapport.goals.models import Goal

    return {g.link_id: g.title for g in Goal.objects.filter(episode__client=client)}


def _instrument(response: Response, titles: dict[str, str]) -> instruments.Instrument | None:
    """The instrument the response answered (goal-progress: one item per goal rated, with the
    goal's wording); None when the practice no longer has its definition."""
    try:
        if response.instrument_id == GOAL_PROGRESS:
            return goal_instrument({k: titles.get(k, "A goal") for k in response.answers})
        return instruments.load(response.instrument_id)
    except (instruments.UnknownInstrument, instruments.DefinitionError, ValueError):
        return None


def _answers(response: Response) -> dict[str, Any]:
    return {**response.answers, **response.free_text_answers}


def resources(response: Response, titles: dict[str, str]) -> list[dict[str, Any]]:
    """The response as a QuestionnaireResponse followed by the Observations of its scores."""
    instrument = _instrument(response, titles)
    answers = _answers(response)
    authored = response.submitted_at.isoformat()
    if instrument is None:
        # The definition is gone: the answers are still the client's, exported as they were.
        return [{
            "resourceType": "QuestionnaireResponse", "id": str(response.code),
            "questionnaire": f"{fhir.CANONICAL_PREFIX}{response.instrument_id}|"
                             f"{response.instrument_version}",
            "status": "completed", "authored": authored,
            "item": [{"linkId": k, "answer": [{"valueString": str(v)}]} for k, v in answers.items()],
        }]
    qr = fhir.questionnaire_response(instrument, answers, id=str(response.code), authored=authored)
    # The version the client answered, which may be older than the current definition.
    qr["questionnaire"] = f"{fhir.CANONICAL_PREFIX}{instrument.id}|{response.instrument_version}"
    score = instrument.score(answers)
    return [qr, *fhir.observations(instrument, score, response_id=str(response.code),
                                   effective=authored)]


def bundle(responses: list[Response], titles: dict[str, str] | None = None) -> dict[str, Any]:
    """A FHIR R4 Bundle (type collection), checked against the FHIR R4B models."""
    titles = titles or {}
    entries = [
        {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
        for r in responses
        for resource in resources(r, titles)
    ]
    data = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": entries,
    }
    fhir.validate_resource(data)  # raises if the export is not valid FHIR
    return data


def summary(client, responses: list[Response], titles: dict[str, str] | None = None) -> str:
    """The same responses in words, for a person to read."""
    titles = titles or {}
    lines = [
        f"Your check-in answers at {client.organisation.name}",
        f"Prepared {timezone.localtime():%d %B %Y %H:%M}",
        "",
    ]
    if not responses:
        lines.append("You have not answered any check-ins yet.")
    for r in responses:
        instrument = _instrument(r, titles)
        title = instrument.title if instrument else r.instrument_id
        when = timezone.localtime(r.submitted_at)
        lines.append(f"{when:%d %B %Y %H:%M} - {title}")
        if r.total is not None:
            total = f"{r.total:g}"
            lines.append(f"  Score: {total}" + (f" ({r.severity_label})" if r.severity_label else ""))
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


def archive(client, responses: list[Response]) -> bytes:
    """A zip with responses.fhir.json (FHIR R4 Bundle) and summary.txt (inside the client's scope)."""
    titles = goal_titles(client)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("responses.fhir.json",
                    json.dumps(bundle(responses, titles), indent=2, ensure_ascii=False))
        zf.writestr("summary.txt", summary(client, responses, titles))
    return buffer.getvalue()
