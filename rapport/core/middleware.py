from django.conf import settings
from django.utils.cache import patch_cache_control


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
