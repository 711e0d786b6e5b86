"""The session page's record: agenda, summary and next steps (shared by choice), private note,
homework. One view, one small form per part, each posted with its own `action`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from rapport.audit.services import record
from rapport.care import access
from rapport.notes import services
from rapport.notes.forms import ItemForm, PrivateNoteForm, SummaryForm


def _reflection_url(session) -> str | None:
    try:
        return reverse("checkins-reflection", args=[session.code])
    except NoReverseMatch:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def session_record(request: HttpRequest, code) -> HttpResponse:
    session = services.get_clinical_session_for(request, code)
    rec = services.record_of(session)
    can_write = access.may_write(request, session.episode)
    summary_form = SummaryForm(initial={"summary": rec.summary, "next_steps": rec.next_steps})
    note_form = PrivateNoteForm(initial={"private_note": rec.private_note})
    agenda_form = ItemForm(label="Add an agenda item", prefix="agenda")
    homework_form = ItemForm(label="Add homework", prefix="homework")
    if request.method == "POST":
        if not can_write:
            return render(request, "403.html", status=403)
        action = request.POST.get("action")
        done = None
        try:
            if action == "summary":
                summary_form = SummaryForm(request.POST)
                if summary_form.is_valid():
                    services.save_summary(session, summary_form.cleaned_data["summary"],
                                          summary_form.cleaned_data["next_steps"], request=request)
                    done = ("Summary and next steps saved"
                            + ("; the client sees the new text." if rec.is_shared else "."))
            elif action == "share":
                services.share(session, user=request.user, request=request)
                done = "Shared with the client: they see the summary, next steps and homework in their portal."
            elif action == "unshare":
                services.unshare(session, request=request)
                done = "No longer shared: the client no longer sees this session's record."
            elif action == "note":
                note_form = PrivateNoteForm(request.POST)
                if note_form.is_valid():
                    services.save_private_note(session, note_form.cleaned_data["private_note"],
                                               request=request)
                    done = "Private note saved."
            elif action == "agenda_add":
                agenda_form = ItemForm(request.POST, label="Add an agenda item", prefix="agenda")
                if agenda_form.is_valid():
                    services.add_agenda_item(session, agenda_form.cleaned_data["text"], request=request)
                    done = "Agenda item added."
            elif action == "agenda_remove":
                services.remove_agenda_item(session, request.POST.get("item", ""), request=request)
                done = "Agenda item removed."
            elif action == "homework_add":
                homework_form = ItemForm(request.POST, label="Add homework", prefix="homework")
                if homework_form.is_valid():
                    services.add_homework(session, homework_form.cleaned_data["text"], request=request)
                    done = "Homework added."
            elif action == "homework_remove":
                services.remove_homework(session, request.POST.get("item", ""), request=request)
                done = "Homework removed."
            else:
                raise Http404("No such action")
        except services.RecordError as exc:
            form = {"summary": summary_form, "note": note_form, "agenda_add": agenda_form,
                    "homework_add": homework_form}.get(action)
            if form is None:
                raise
            form.add_error(None, str(exc))
        if done:
            messages.success(request, done)
            return redirect("notes-record", session.code)
        rec = services.record_of(session)
    prep = services.session_prep(session)
    record(request, "notes.record.viewed", rec if rec.pk else session, client=session.episode.client,
           organisation=session.episode.organisation, detail={"client_prep": bool(prep)})
    has_errors = any(f.errors for f in (summary_form, note_form, agenda_form, homework_form))
    return render(request, "notes/session_record.html", {
        "session": session, "episode": session.episode, "rec": rec, "prep": prep,
        "agenda": list(rec.agenda.all()) if rec.pk else [],
        "homework": list(rec.homework.all()) if rec.pk else [],
        "summary_form": summary_form, "note_form": note_form, "agenda_form": agenda_form,
        "homework_form": homework_form, "can_write": can_write,
        "reflection_url": _reflection_url(session) if can_write else None,
    }, status=400 if has_errors else 200)
