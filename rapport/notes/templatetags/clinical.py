"""`{% load clinical %}{% if request|reads_clinical_text:episode %}`: links only where they lead."""

from django import template

from rapport.care.access import can_read_clinical_text

register = template.Library()


@register.filter
def reads_clinical_text(request, episode) -> bool:
    return can_read_clinical_text(request, episode)
