"""`{% load phone %}{{ text|tel_links }}`: a practice's crisis text, with every phone number a
tap-to-call link (paragraphs as with `linebreaks`)."""

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

register = template.Library()

# A phone number as people write one: digits with spaces, dashes or dots between them, an optional
# leading + and an optional (area code); at least three digits (emergency numbers: 999, 112, 911).
NUMBER = re.compile(r"(?<![\w/])(\+?\(?\d[\d\s().-]{1,18}\d)(?![\w/])")


def _link(match: re.Match) -> str:
    shown = match.group(1)
    # "+44 (0)20 ...": the (0) is dialled only from inside the country, never after the +.
    digits = re.sub(r"\D", "", shown.replace("(0)", "") if shown.startswith("+") else shown)
    if len(digits) < 3:
        return shown
    target = ("+" if shown.startswith("+") else "") + digits
    return format_html('<a href="tel:{}" class="tel">{}</a>', target, shown)


@register.filter(needs_autoescape=False)
def tel_links(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", str(text or "")) if p.strip()]
    out = []
    for paragraph in paragraphs:
        # The text is escaped first; escaping leaves digits, spaces, + ( ) . - as they were.
        linked = NUMBER.sub(_link, escape(paragraph)).replace("\n", "<br>")
        out.append(f"<p>{linked}</p>")
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped text and format_html


@register.filter(needs_autoescape=False)
def tel_inline(text: str) -> str:
    """One line (a client's phone, their emergency contact) with its numbers tap-to-call."""
    return mark_safe(NUMBER.sub(_link, escape(str(text or ""))))  # noqa: S308 - escaped first
