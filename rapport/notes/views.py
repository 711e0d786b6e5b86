"""The session page's record: agenda, summary and next steps (shared by choice), private note,
homework. One page; each small form posts its own `action` to the page, and each action is a
view of its own below (the page only checks access and picks it)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from rapport.audit.services import record
from rapport.care import access
from rapport.care.models import Session
from rapport.checkins import preferences
from rapport.notes import services
from rapport.notes.forms import ItemForm, PrivateNoteForm, SummaryForm

Action = Callable[[HttpRequest, Session], HttpResponse]
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    """Register a view for the POSTs whose `action` is `name`."""
    def register(view: Action) -> Action:
        ACTIONS[name] = view
        return view
    return register


def _reflection_url(session) -> str | None:
    try:
        return reverse("checkins-reflection", args=[session.code])
    except NoReverseMatch:
        return None


def _agenda_form(data=None) -> ItemForm:
    return ItemForm(data, label=_("Add an agenda item"), prefix="agenda")


def _homework_form(data=None) -> ItemForm:
    return ItemForm(data, label=_("Add homework"), prefix="homework")


def _page(request: HttpRequest, session: Session, **forms: Form) -> HttpResponse:
    """The record page (audited as read); `forms` replace the empty ones, e.g. one with errors."""
    rec = services.record_of(session)
    forms = {
        "summary_form": SummaryForm(initial={"summary": rec.summary, "next_steps": rec.next_steps}),
        "note_form": PrivateNoteForm(initial={"private_note": rec.private_note}),
        "agenda_form": _agenda_form(),
        "homework_form": _homework_form(),
        **forms,
    }
    can_write = access.may_write(request, session.episode)
    prep = services.session_prep(session)
    ask_about = preferences.strongest(session.episode)
    record(request, "notes.record.viewed", rec if rec.pk else session, client=session.episode.client,
           organisation=session.episode.organisation,
           detail={"client_prep": bool(prep), "preferences": len(ask_about)})
    has_errors = any(f.errors for f in forms.values())
    return render(request, "notes/session_record.html", {
        "session": session, "episode": session.episode, "rec": rec, "prep": prep,
        "ask_about": ask_about,
        "agenda": list(rec.agenda.all()) if rec.pk else [],
        "homework": list(rec.homework.all()) if rec.pk else [],
        **forms, "can_write": can_write,
        "reflection_url": _reflection_url(session) if can_write else None,
    }, status=400 if has_errors else 200)


def _done(request: HttpRequest, session: Session, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("notes-record", session.code)


@login_required
@require_http_methods(["GET", "POST"])
def session_record(request: HttpRequest, code) -> HttpResponse:
    session = services.get_clinical_session_for(request, code)
    if request.method == "GET":
        return _page(request, session)
    if not access.may_write(request, session.episode):
        return render(request, "403.html", status=403)
    view = ACTIONS.get(request.POST.get("action", ""))
    if view is None:
        raise Http404("No such action")
    return view(request, session)


def _saved(request: HttpRequest, session: Session, form: Form, field: str, save) -> HttpResponse:
    """Validate `form`, then `save(cleaned_data)`; the page again with the error if either fails."""
    if form.is_valid():
        try:
            message = save(form.cleaned_data)
        except services.RecordError as exc:
            form.add_error(None, str(exc))
        else:
            return _done(request, session, message)
    return _page(request, session, **{field: form})


@action("summary")
def save_summary(request: HttpRequest, session: Session) -> HttpResponse:
    def save(data) -> str:
        rec = services.save_summary(session, data["summary"], data["next_steps"], request=request)
        return (_("Summary and next steps saved; the client sees the new text.") if rec.is_shared
                else _("Summary and next steps saved."))
    return _saved(request, session, SummaryForm(request.POST), "summary_form", save)


@action("note")
def save_private_note(request: HttpRequest, session: Session) -> HttpResponse:
    def save(data) -> str:
        services.save_private_note(session, data["private_note"], request=request)
        return _("Private note saved.")
    return _saved(request, session, PrivateNoteForm(request.POST), "note_form", save)


@action("share")
def share(request: HttpRequest, session: Session) -> HttpResponse:
    services.share(session, user=request.user, request=request)
    return _done(request, session,
                 _("Shared with the client: they see the summary, next steps and homework in their portal."))


@action("unshare")
def unshare(request: HttpRequest, session: Session) -> HttpResponse:
    services.unshare(session, request=request)
    return _done(request, session, _("No longer shared: the client no longer sees this session's record."))


@action("agenda_add")
def add_agenda_item(request: HttpRequest, session: Session) -> HttpResponse:
    def save(data) -> str:
        services.add_item(session, "agenda", data["text"], request=request)
        return _("Agenda item added.")
    return _saved(request, session, _agenda_form(request.POST), "agenda_form", save)


@action("homework_add")
def add_homework(request: HttpRequest, session: Session) -> HttpResponse:
    def save(data) -> str:
        services.add_item(session, "homework", data["text"], request=request)
        return "Homework added."
    return _saved(request, session, _homework_form(request.POST), "homework_form", save)


@action("agenda_remove")
def remove_agenda_item(request: HttpRequest, session: Session) -> HttpResponse:
    services.remove_item(session, "agenda", request.POST.get("item", ""), request=request)
    return _done(request, session, _("Agenda item removed."))


@action("homework_remove")
def remove_homework(request: HttpRequest, session: Session) -> HttpResponse:
    services.remove_item(session, "homework", request.POST.get("item", ""), request=request)
    return _done(request, session, "Homework removed.")
