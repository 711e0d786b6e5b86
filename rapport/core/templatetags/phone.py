"""`{% load phone %}{{ text|tel_links }}`: a practice's crisis text, with every phone number a
tap-to-call link (paragraphs as with `linebreaks`); `tel_inline` for one line of text."""

import re

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# A phone number as people write one: digits with spaces, dashes or dots between them, an optional
# leading + and an optional (area code); at least three digits (emergency numbers: 999, 112, 911).
NUMBER = re.compile(r"(?<![\w/])(\+?\(?\d[\d\s().-]{1,18}\d)(?![\w/])")
BREAK = mark_safe("<br>")  # noqa: S308 - a constant


def _link(shown: str) -> str | SafeString:
    """A tel: link showing `shown`, or `shown` as it is when it has too few digits."""
    # "+44 (0)20 ...": the (0) is dialled only from inside the country, never after the +.
    digits = re.sub(r"\D", "", shown.replace("(0)", "") if shown.startswith("+") else shown)
    if len(digits) < 3:
        return shown
    target = ("+" if shown.startswith("+") else "") + digits
    return format_html('<a href="tel:{}" class="tel">{}</a>', target, shown)


def _line(line: str) -> SafeString:
    """One line, escaped, its phone numbers links (split() puts the numbers at odd places)."""
    parts = NUMBER.split(line)
    return format_html_join("", "{}", ((_link(p) if i % 2 else p,) for i, p in enumerate(parts)))


@register.filter
def tel_links(text: str) -> SafeString:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", str(text or "")) if p.strip()]
    return format_html_join("\n", "<p>{}</p>", (
        (format_html_join(BREAK, "{}", ((_line(line),) for line in paragraph.split("\n"))),)
        for paragraph in paragraphs))


@register.filter
def tel_inline(text: str) -> SafeString:
    """One line (a client's phone, their emergency contact) with its numbers tap-to-call."""
    return _line(str(text or "").replace("\n", " "))
