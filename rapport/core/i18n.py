"""Which language a page or a message speaks (README, "Languages").

Staff read in their own language (`User.language`); a client reads every page, reminder and email
in the language on their record (`Client.language`, a BCP 47 tag such as "es-MX"), narrowed to the
nearest language the site offers (settings.LANGUAGES), English when there is none.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.utils import translation


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
    return [(code, name) for code, name in settings.LANGUAGES]


@contextmanager
def speaking(tag: str | None):
    """Compose a message (email, text, task) in `tag`'s language, then restore the caller's."""
    with translation.override(supported(tag)):
        yield


def activate(request, tag: str | None) -> str:
    """Serve the rest of this request in `tag`'s language (a client's pages); returns the code."""
    code = supported(tag)
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return code
