"""The client's data download is complete: beside their answers, their goals, the session
summaries, next steps and homework shared with them, and closing summaries; nothing private."""

from __future__ import annotations

import io
import json
import zipfile

from django.urls import reverse
from django_scopes import scope

from rapport.goals.models import Side
from rapport.goals.services import propose_goal
from rapport.notes.models import ClosingSummary
from rapport.notes.services import add_item, save_private_note, save_summary, share
from tests.test_permission_matrix import _portal_login


def _download(client, practice) -> dict[str, bytes]:
    _portal_login(practice.client)(client)
    reply = client.post(reverse("portal-download"))
    assert reply.status_code == 200
    with zipfile.ZipFile(io.BytesIO(reply.content)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_the_download_has_goals_summaries_homework_and_the_closing_summary(client, practice):
    with scope(organisation=[practice.org]):
        propose_goal(practice.episode, "Sleep through the night", side=Side.THERAPIST,
                     user=practice.therapist)
        save_summary(practice.session, "We talked about sleep.", "Try the wind-down routine.")
        add_item(practice.session, "homework", "Keep a sleep diary")
        save_private_note(practice.session, "Therapist's own hunch")
        share(practice.session, user=practice.therapist)
        ClosingSummary.objects.create(organisation=practice.org, episode=practice.episode,
                                      text="Well done on the sleep work.", written_by=practice.therapist)
        # Another client's records never reach this download.
        add_item(practice.colleague_session, "homework", "Someone else's homework")
        share(practice.colleague_session, user=practice.colleague)
    files = _download(client, practice)
    assert set(files) == {"responses.fhir.json", "records.json", "summary.txt"}
    records = json.loads(files["records.json"])
    assert [g["title"] for g in records["goals"]] == ["Sleep through the night"]
    (session,) = records["sessions"]
    assert (session["summary"], session["next_steps"]) == ("We talked about sleep.",
                                                           "Try the wind-down routine.")
    assert [h["text"] for h in session["homework"]] == ["Keep a sleep diary"]
    assert [c["text"] for c in records["closing_summaries"]] == ["Well done on the sleep work."]
    text = files["summary.txt"].decode()
    for shown in ("Sleep through the night", "We talked about sleep.", "Keep a sleep diary (not done yet)",
                  "Well done on the sleep work."):
        assert shown in text
    everything = b"".join(files.values()).decode()
    assert "Therapist's own hunch" not in everything and "Someone else's homework" not in everything


def test_an_unshared_record_stays_out_of_the_download(client, practice):
    with scope(organisation=[practice.org]):
        save_summary(practice.session, "Draft, not shared yet.", "")
    records = json.loads(_download(client, practice)["records.json"])
    assert records["sessions"] == [] and records["goals"] == [] and records["closing_summaries"] == []
