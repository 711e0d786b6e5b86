"""Find user-visible template text not marked for translation (README, "Languages").

A template is cut into Django tags, variables, comments, HTML tags and text. Text with two or more
letters that sits outside {% translate %} / {% blocktranslate %} (and outside {% comment %},
<script> and <style>) is unmarked, as is such a value in an attribute people read (aria-label,
title, alt, placeholder), and a literal handed to an include or a `with`, or a filter's default.
`rapport manage i18n_check` and tests/i18n run this over every template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TOKEN = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#}|<!--.*?-->|<(?:[^>{]|{%.*?%}|{{.*?}})*>)", re.DOTALL)
DJANGO_CODE = re.compile(
    r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}|{%.*?%}|{{.*?}}", re.DOTALL)
LETTERS = re.compile(r"[^\W\d_]{2,}")
READ_ATTRIBUTES = re.compile(r'\b(aria-label|data-label|title|alt|placeholder)="([^"]*)"')
OPENERS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans",
           "comment": "endcomment"}
# A literal passed to an include or a with, or a filter's default: `caption="..."`,
# `default:"..."` (marked: `caption=_("...")`, `default:_("...")`).
TAG_LITERAL = re.compile(r'(?:\w+=|default(?:_if_none)?:)"([^"]*)"')
# Words that are the same in every language: the product's name, units shown beside numbers.
UNTRANSLATABLE = {"Rapport", "· Rapport", "PHQ-9", "GAD-7", "PHQ-2", "GAD-2", "PCL-5", "C-NIP"}


@dataclass(frozen=True)
class Unmarked:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def tokens(source: str) -> list[str]:
    return [t for t in TOKEN.split(source) if t]


def tag_name(token: str) -> str:
    if not token.startswith("{%"):
        return ""
    words = token[2:-2].split()
    return words[0] if words else ""


def _visible(text: str) -> bool:
    stripped = text.strip()
    return bool(LETTERS.search(stripped)) and stripped not in UNTRANSLATABLE


def unmarked_in(source: str, path: str = "") -> list[Unmarked]:
    found: list[Unmarked] = []
    closing: str | None = None
    skip_element: str | None = None
    line = 1
    for token in tokens(source):
        here = line
        line += token.count("\n")
        name = tag_name(token)
        if closing:
            if name == closing:
                closing = None
            continue
        if name in OPENERS:
            closing = OPENERS[name]
            continue
        lowered = token.lower()
        if skip_element:
            if lowered.startswith(f"</{skip_element}"):
                skip_element = None
            continue
        if lowered.startswith(("<script", "<style")) and not lowered.endswith("/>"):
            skip_element = "script" if lowered.startswith("<script") else "style"
            continue
        if token.startswith("<") and not token.startswith("<!--"):
            for _attr, value in READ_ATTRIBUTES.findall(token):
                if _visible(DJANGO_CODE.sub(" ", value)):
                    found.append(Unmarked(path, here, value.strip()))
            continue
        if name in ("include", "with") or token.startswith("{{") or "default" in token:
            literals = TAG_LITERAL.findall(token[token.find(" ", 3):] if name == "include" else token)
            found += [Unmarked(path, here, value) for value in literals if _visible(value)]
        if token.startswith(("{%", "{{", "{#", "<!--")):
            continue
        if _visible(token):
            found.append(Unmarked(path, here, " ".join(token.split())))
    return found


def unmarked_templates(root: Path) -> list[Unmarked]:
    """Every unmarked piece of text in the templates under `root`."""
    found: list[Unmarked] = []
    for path in sorted(root.rglob("*")):
        if path.suffix in (".html", ".svg", ".txt") and path.is_file():
            found += unmarked_in(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    return found
