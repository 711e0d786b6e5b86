"""The translations are complete, compiled, and every template string is marked for them."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from rapport.core import i18n_catalogue, i18n_scan

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
