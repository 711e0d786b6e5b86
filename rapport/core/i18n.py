"""Which language a page or a message speaks (README, "Languages").

Staff read in their own language (`User.language`); a client reads every page, reminder and email
in the language on their record (`Client.language`, a BCP 47 tag such as "es-MX"), narrowed to the
nearest language the site offers (settings.LANGUAGES), English when there is none.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import pgettext_lazy

from rapport import instruments
from rapport.instruments.translation import localize


def supported(tag: str | None) -> str:
    """The offered language nearest to `tag` ("es-MX" -> "es"), else the site's default."""
    if tag:
        try:
            return translation.get_supported_language_variant(tag.strip().lower())
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def choices() -> list[tuple[str, str]]:
    """The offered languages, each named in itself (a reader finds their own)."""
    return [(code, translation.get_language_info(code)["name_local"].capitalize())
            for code, _name in settings.LANGUAGES]


def zone_of(name: str | None) -> ZoneInfo | None:
    """The time zone named on a record, or None when there is none or it is unknown."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


@contextmanager
def speaking(tag: str | None, zone: str | None = None):
    """Compose a message (email, text, task) in `tag`'s language and, when `zone` is given (a
    client's `time_zone`; "" or an unknown name: the practice's), with times in that zone; then
    restore the caller's language and zone."""
    in_zone = nullcontext() if zone is None else timezone.override(zone_of(zone))
    with translation.override(supported(tag)), in_zone:
        yield


def activate(request, tag: str | None) -> str:
    """Serve the rest of this request in `tag`'s language; returns the code."""
    code = supported(tag)
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return code


def activate_for_client(request, tag: str | None, zone: str = "") -> str:
    """Serve a client's page in their language and time zone (the practice's when they have none
    or an unknown one), and remember the language for their next visit."""
    timezone.deactivate()
    if found := zone_of(zone):  # an unknown zone on the record: the practice's
        timezone.activate(found)
    code = activate(request, tag)
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != code:
        request.remember_language = code  # LanguageMiddleware sets the cookie on the reply
    return code


def remember(request, response) -> None:
    """Set Django's language cookie to the language a client's page chose (activate_for_client),
    so that their next anonymous page (the portal's login, a link) opens in it. A cookie, not
    the session: answering a check-in link keeps no session on the server."""
    code = getattr(request, "remember_language", None)
    if code:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, code, max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE)


def instrument(instrument_id: str):
    """The instrument in the active language where its definition translates it (the scoring is
    the same in every language: rapport/instruments/translation.py)."""
    return localize(instruments.load(instrument_id), translation.get_language())


# The screeners' severity words (their bands' labels in rapport/instruments/library, with their
# sources there). Words of the interface, not of the questionnaire: a client whose screener is
# shown in English still reads how their score is described in their own language.
SEVERITY_WORDS = {
    "minimal": pgettext_lazy("severity", "minimal"),
    "mild": pgettext_lazy("severity", "mild"),
    "moderate": pgettext_lazy("severity", "moderate"),
    "moderately severe": pgettext_lazy("severity", "moderately severe"),
    "severe": pgettext_lazy("severity", "severe"),
    "screen negative": pgettext_lazy("severity", "screen negative"),
    "screen positive": pgettext_lazy("severity", "screen positive"),
}


def severity(label: str) -> str:
    """A severity band's label in the active language (as it is, when not a known word)."""
    return str(SEVERITY_WORDS.get(label, label))


def title(instrument_) -> str:
    """The instrument's title for a page in the active language: its own title when it is
    shown in that language, else the short name the world uses ("PHQ-9")."""
    language = translation.get_language() or "en"
    if language.split("-")[0] == "en" or instrument_ is not instruments.load(instrument_.id):
        return instrument_.title
    return instrument_.short_title
