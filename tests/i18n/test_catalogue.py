"""The translations are complete, compiled, and every template string is marked for them."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from rapport.core import i18n_catalogue, i18n_pyscan, i18n_scan

TEMPLATES = Path(settings.BASE_DIR) / "rapport" / "templates"


@pytest.mark.parametrize("language", i18n_catalogue.translated_languages())
def test_every_string_is_translated_and_none_is_fuzzy(language):
    catalogue = i18n_catalogue.inspect(language)
    assert catalogue.untranslated == [], f"untranslated in {language}: rapport manage i18n_check"
    assert catalogue.fuzzy == [], f"fuzzy in {language}: rapport manage i18n_check"


@pytest.mark.parametrize("language", i18n_catalogue.translated_languages())
def test_the_committed_mo_is_compiled_from_the_po(language):
    assert not i18n_catalogue.inspect(language).stale_mo, "run: rapport manage compilemessages"


def test_spanish_is_offered_beside_english():
    assert [code for code, _ in settings.LANGUAGES] == ["en", "es"]


def test_every_user_visible_template_string_is_marked_for_translation():
    assert [str(u) for u in i18n_scan.unmarked_templates(TEMPLATES)] == []


def test_the_scanner_finds_unmarked_text_and_attributes_and_skips_marked_text():
    source = (
        '{% load i18n %}<h1>Hello there</h1><p>{% translate "Fine" %}</p>'
        '<nav aria-label="Main menu"></nav><td data-label="{% translate \'Ok\' %}">7</td>'
        "{% blocktranslate %}Also {{ fine }}{% endblocktranslate %}{% comment %}not shown{% endcomment %}"
        "<script>var words = 'ignored';</script><span>Rapport</span>\n<p>Part {{ n }} of {{ m }}</p>"
        '<div aria-label="{{ t }}: your scores"></div><div title="{% translate \'Fine\' %}"></div>\n'
        '{% include "a.html" with caption="Open goals" empty="" ok=_("Marked") %}'
        '{{ x|default:"None yet" }}{{ y|default:_("Marked") }}'
    )
    found = i18n_scan.unmarked_in(source, "x.html")
    assert [(u.line, u.text) for u in found] == [
        (1, "Hello there"), (1, "Main menu"), (2, "Part"), (2, "of"),
        (2, "{{ t }}: your scores"), (3, "Open goals"), (3, "None yet")]


def test_every_user_visible_python_string_is_marked_for_translation():
    assert [str(u) for u in i18n_pyscan.unmarked_modules(Path(settings.BASE_DIR) / "rapport")] == []


PYTHON_SOURCE = '''
from django.contrib import messages
from django import forms
from django.utils.translation import gettext as _, ngettext

class Kind(models.TextChoices):
    A = "a", "Shown unmarked"
    B = "b", _("Marked")

OUTCOMES = [("yes", "Yes, done"), ("no", _("Not yet"))]

class F(forms.Form):
    when = forms.DateField(label="Start day", help_text=_("Fine"),
                           error_messages={"required": "Enter a day.", "invalid": _("Fine")})
    pick = forms.ChoiceField(choices=OUTCOMES, widget=forms.TextInput(attrs={"placeholder": "Your name", "rows": 2}))

    def clean(self):
        self.add_error("when", f"Too late by {n} days")
        raise forms.ValidationError(_("Fine: %(n)s") % {"n": 1})

def view(request):
    messages.success(request, "Saved.")
    messages.info(request, ngettext("One saved.", "%(n)s saved.", 2) % {"n": 2})
    messages.add_message(request, messages.INFO, "Added " + name)
    send_sms(phone, "Your session is at {}".format(when))
    send_mail("Reminder", body_text, None, [to])
    subject = f"{practice}: your session"
    log.info("Not for people")
    return HttpResponse("Gone away.", status=410)

def _body(session):
    return "See you " + str(session)

def reference(x):
    subject = f"{base}/{x}"
    return HttpResponse(status=204)

STEP_LABELS = {"seen": "Seen it", "done": _("Fine")}
WHEN_CHOICES = [("before", _("Fine")), ("after", "After it")]
'''


def test_the_python_scanner_finds_unmarked_text_where_people_read_it_and_skips_the_rest():
    found = i18n_pyscan.unmarked_in(PYTHON_SOURCE, "x.py")
    assert [(u.line, u.text) for u in found] == [
        (7, "Shown unmarked"), (10, "Yes, done"), (13, "Start day"), (14, "Enter a day."),
        (15, "Your name"), (18, "Too late by {} days"), (22, "Saved."), (24, "Added"),
        (25, "Your session is at {}"), (26, "Reminder"), (27, "{}: your session"), (29, "Gone away."),
        (32, "See you"), (38, "Seen it"), (39, "After it")]


def test_an_allowed_literal_is_skipped_only_in_its_own_module(monkeypatch):
    source = 'def f():\n    return HttpResponse("Machine text.")\n'
    monkeypatch.setitem(i18n_pyscan.ALLOWED, ("a.py", "Machine text."), "read by a program")
    assert i18n_pyscan.unmarked_in(source, "a.py") == []
    assert [u.text for u in i18n_pyscan.unmarked_in(source, "b.py")] == ["Machine text."]


def test_every_allowed_literal_still_exists_and_says_why():
    sources = {path: (Path(settings.BASE_DIR) / path).read_text() for path, _ in i18n_pyscan.ALLOWED}
    for (path, text), reason in i18n_pyscan.ALLOWED.items():
        assert len(reason.split()) >= 5, (path, text)
        assert text.replace("{}", "").split()[0] in sources[path], (path, text)


def test_a_stale_mo_is_noticed(tmp_path):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    po.append(polib.POEntry(msgid="Hello", msgstr="Hola"))
    po.save_as_mofile(str(tmp_path / "django.mo"))
    assert not i18n_catalogue.mo_is_stale(po, tmp_path / "django.mo")
    po[0].msgstr = "Buenas"
    assert i18n_catalogue.mo_is_stale(po, tmp_path / "django.mo")
    assert i18n_catalogue.mo_is_stale(po, tmp_path / "missing.mo")


def test_the_check_command_reports_nothing_left_to_do(capsys):
    call_command("i18n_check")
    out = capsys.readouterr().out
    assert "es: 0 untranslated, 0 fuzzy" in out and "0 unmarked template text(s)" in out
    assert "0 unmarked Python text(s)" in out
