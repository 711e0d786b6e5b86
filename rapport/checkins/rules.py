"""A check-in schedule's rules as a form: the rows shown and what a posted form asks for.

Two pages edit rules the same way: an episode's schedule (its therapist, checkins.staff_views)
and the practice's defaults, which every new episode starts from (the practice settings page).
Each row is a questionnaire and when it is asked (before or after each session, at intake, at
discharge), ticked or not, and every how many sessions; one more can be added.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.checkins.models import DEFAULT_RULES
from rapport.core.templatetags.instruments import instrument_name

WHEN_CHOICES = [("before", gettext_lazy("Before each session")), ("after", gettext_lazy("After each session")),
                ("intake", gettext_lazy("At intake")), ("discharge", gettext_lazy("At discharge"))]


def rows(rules: list[dict]) -> list[dict]:
    """One row per questionnaire and moment: the rules given (ticked), then the defaults not
    among them (unticked), numbered for the form's field names."""
    found, seen = [], set()
    for rule in [*rules, *DEFAULT_RULES]:
        key = (rule["instrument"], rule["when"])
        if key in seen:
            continue
        seen.add(key)
        found.append({"n": len(found), "instrument": rule["instrument"], "when": rule["when"],
                      "when_label": dict(WHEN_CHOICES).get(rule["when"], rule["when"]),
                      "every": rule.get("every", 1),
                      "on": any((r["instrument"], r["when"]) == key for r in rules)})
    return found


def _every(value: str) -> int | None:
    return int(value) if value.isdigit() and 1 <= int(value) <= 52 else None


def posted(data: QueryDict, shown: list[dict], known: list[str]) -> tuple[list[dict], list[str]]:
    """The rules the form asks for, and the problems (sentences) that stop it being saved."""
    rules, errors = [], []
    for row in shown:
        if data.get(f"on-{row['n']}") != "yes":
            continue
        every = _every(data.get(f"every-{row['n']}", "1"))
        if every is None:
            errors.append(_("%(questionnaire)s (%(when)s): “every” must be a whole number from 1 to 52.")
                          % {"questionnaire": instrument_name(row["instrument"]), "when": row["when_label"]})
            continue
        rules.append({"instrument": row["instrument"], "when": row["when"], "every": every})
    new_id = data.get("new-instrument", "")
    if new_id:
        every = _every(data.get("new-every", "1"))
        if new_id not in known or data.get("new-when", "") not in dict(WHEN_CHOICES):
            errors.append(_("Choose a questionnaire and when to ask it."))
        elif every is None:
            errors.append(_("“Every” must be a whole number from 1 to 52."))
        else:
            rules.append({"instrument": new_id, "when": data["new-when"], "every": every})
    return rules, errors
