"""What the REST API sends and accepts (pydantic schemas through django-ninja).

Objects are named by their codes (UUIDs), never by database ids. Free text written by or about a
client (a response's comments, goal titles) is only in answers to those who may read it on the
pages (the treating therapist and their supervisors).
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema


class ClientOut(Schema):
    code: UUID
    name: str
    preferred_name: str
    pronouns: str
    language: str
    created_at: datetime


class EpisodeOut(Schema):
    code: UUID
    client: UUID = Field(..., alias="client.code")
    therapist: str = Field(..., alias="therapist.name")
    started_on: date
    ended_on: date | None
    status: str


class SessionOut(Schema):
    code: UUID
    episode: UUID = Field(..., alias="episode.code")
    scheduled_at: datetime
    duration_minutes: int
    attendance: str


class CheckInOut(Schema):
    code: UUID
    episode: UUID = Field(..., alias="episode.code")
    session: UUID | None = None
    when: str
    respondent: str
    instruments: list[str]
    created_at: datetime
    completed_at: datetime | None

    @staticmethod
    def resolve_session(obj) -> UUID | None:
        return obj.session.code if obj.session_id else None


class SentOut(Schema):
    checkin: UUID
    channel: str
    expires_at: datetime


class ResponseOut(Schema):
    code: UUID
    episode: UUID
    session: UUID | None
    checkin: UUID | None
    instrument: str
    instrument_version: str
    respondent: str
    answers: dict[str, Any]
    free_text: dict[str, Any] | None = Field(None, description="Only for the treating therapist and their supervisors")
    total: float | None
    severity: str
    subscales: dict[str, Any]
    flags: list[Any]
    submitted_at: datetime
    supersedes: UUID | None


class SubmitIn(Schema):
    checkin: UUID = Field(..., description="The check-in the answers belong to")
    instrument: str = Field(..., max_length=100, description="An instrument the check-in asks for, e.g. phq9")
    answers: dict[str, Any] = Field(..., description="linkId -> answer, as the instrument defines them")
    submission_token: UUID | None = Field(None, description="Send the same token again to retry safely")


class AlertOut(Schema):
    code: UUID
    episode: UUID = Field(..., alias="episode.code")
    client: UUID = Field(..., alias="episode.client.code")
    kind: str
    severity: str
    status: str
    subject: str
    ongoing: bool
    session_number: int | None
    evidence: dict[str, Any] = Field(..., description="The finding behind the alert: numbers and ids only")
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


class GoalOut(Schema):
    code: UUID
    episode: UUID = Field(..., alias="episode.code")
    title: str
    description: str
    status: str
    proposed_by: str
    created_at: datetime


class GoalIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class Problem(Schema):
    detail: str
    errors: dict[str, str] | None = None
