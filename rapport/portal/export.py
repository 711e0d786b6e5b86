""""Download my data": a client's responses as a FHIR Bundle plus a readable summary."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.utils import timezone

from rapport import instruments
from rapport.checkins.models import Response


def _answer(item: instruments.Item | None, value: Any) -> dict[str, Any]:
    if item is not None and item.kind == "choice":
        option = next((o for o in item.options if o.value == value), None)
        if option is not None:
            return {"valueCoding": {"code": option.code, "display": option.display}}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    return {"valueString": str(value)}


def _instrument(instrument_id: str) -> instruments.Instrument | None:
    try:
        return instruments.load(instrument_id)
    except (instruments.UnknownInstrument, instruments.DefinitionError):
        return None


def questionnaire_response(response: Response) -> dict[str, Any]:
    """One stored response as a FHIR R4 QuestionnaireResponse."""
    instrument = _instrument(response.instrument_id)
    url = (instrument.definition.get("url") if instrument else None) or (
        f"urn:rapport:questionnaire:{response.instrument_id}"
    )
    answers = {**response.answers, **response.free_text_answers}
    order = [i.link_id for i in instrument.items if not i.template] if instrument else []
    order += [k for k in answers if k not in order]
    items = []
    for link_id in order:
        if link_id not in answers:
            continue
        item = None
        if instrument is not None:
            try:
                item = instrument.item(link_id)
            except KeyError:
                item = None
        entry: dict[str, Any] = {"linkId": link_id, "answer": [_answer(item, answers[link_id])]}
        if item is not None:
            entry["text"] = item.text
        items.append(entry)
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.code),
        "questionnaire": f"{url}|{response.instrument_version}",
        "status": "completed",
        "authored": response.submitted_at.isoformat(),
        "item": items,
    }


def bundle(responses: list[Response]) -> dict[str, Any]:
    """A FHIR R4 Bundle (type collection), checked against the FHIR R4B models."""
    from fhir.resources.R4B.bundle import Bundle

    data = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{r.code}", "resource": questionnaire_response(r)}
            for r in responses
        ],
    }
    Bundle.model_validate(data)  # raises if the export is not valid FHIR
    return data


def summary(client, responses: list[Response]) -> str:
    """The same responses in words, for a person to read."""
    lines = [
        f"Your check-in answers at {client.organisation.name}",
        f"Prepared {timezone.localtime():%d %B %Y %H:%M}",
        "",
    ]
    if not responses:
        lines.append("You have not answered any check-ins yet.")
    for r in responses:
        instrument = _instrument(r.instrument_id)
        title = instrument.title if instrument else r.instrument_id
        when = timezone.localtime(r.submitted_at)
        lines.append(f"{when:%d %B %Y %H:%M} - {title}")
        if r.total is not None:
            total = f"{r.total:g}"
            lines.append(f"  Score: {total}" + (f" ({r.severity_label})" if r.severity_label else ""))
        answers = {**r.answers, **r.free_text_answers}
        for link_id, value in answers.items():
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
    """A zip with responses.fhir.json (FHIR R4 Bundle) and summary.txt."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("responses.fhir.json", json.dumps(bundle(responses), indent=2, ensure_ascii=False))
        zf.writestr("summary.txt", summary(client, responses))
    return buffer.getvalue()
