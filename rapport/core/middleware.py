from django.conf import settings
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers

from rapport.core import i18n


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: CSP, a permissions policy, and no caching.

    Every page may hold clinical data, so no response from a view is stored by the browser or a
    proxy (static files are served before this runs, by WhiteNoise, with their own caching).
    """

    PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        patch_cache_control(response, no_store=True, private=True)
        return response


class RequestBodyLimitMiddleware:
    """Refuse an oversized body before anything parses it (CSRF's check included).

    DATA_UPLOAD_MAX_MEMORY_SIZE bounds only the non-file fields; the file parts of a multipart
    body are streamed to disk whatever their size, and the CSRF check parses the body to find
    its token, so an anonymous visitor could make the server write gigabytes. No view accepts a
    file: any body longer than DATA_UPLOAD_MAX_MEMORY_SIZE is refused (413) from its declared
    length, unread.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import HttpResponse

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return HttpResponse(translation.gettext("Request body too large."), status=413,
                                content_type="text/plain")
        return self.get_response(request)


class LanguageMiddleware:
    """Serve each page in its reader's language.

    A signed-in staff member reads in the language on their account; anyone else gets the
    language their client pages were last served in (Django's language cookie, set by
    `rapport.core.i18n.remember`), else the browser's preference among settings.LANGUAGES.
    The client's pages (portal, check-in link) switch to the language on the client's record
    themselves (`rapport.core.i18n.activate`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.deactivate()  # the site's time zone, unless a client's page chooses theirs
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "language", ""):
            i18n.activate(request, user.language)
        else:  # a client's language remembered in the language cookie, else the browser's
            i18n.activate(request, translation.get_language_from_request(request))
        response = self.get_response(request)
        i18n.remember(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
