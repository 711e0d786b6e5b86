"""`{% load instruments %}{{ response.instrument_id|instrument_name }}`: "PHQ-9", never "phq9"."""

from django import template
from django.utils.translation import gettext as _

from rapport import instruments
from rapport.core import i18n

register = template.Library()


@register.filter
def instrument_name(instrument_id: str) -> str:
    try:
        return i18n.instrument(str(instrument_id)).short_title
    except (instruments.UnknownInstrument, instruments.DefinitionError):
        # A definition no longer installed: say so in words rather than show its id.
        return _("a questionnaire no longer installed")
