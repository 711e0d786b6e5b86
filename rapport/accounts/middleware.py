from django_scopes import scope

from rapport.accounts.roles import organisations_of, roles_in

SESSION_ORGANISATION_KEY = "rapport_organisation"


class OrganisationScopeMiddleware:
    """Sets request.organisation and request.roles, and activates the organisation scope.

    A staff user works in one organisation at a time (the one chosen in their session, else their
    first). Every scoped query in the request is then limited to it. Anonymous requests get no
    scope at all: clinical queries made for them raise, unless a view opens a scope deliberately
    (a check-in link, for example, opens its own client's organisation). Neither does a user who
    has given their password but not yet their second factor: until then they are treated as
    anonymous here, so no page (the two-factor page, an error page) can show clinical data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organisation = None
        request.roles = frozenset()
        if not request.user.is_authenticated or not request.user.is_verified():
            return self.get_response(request)
        organisations = organisations_of(request.user)
        chosen = request.session.get(SESSION_ORGANISATION_KEY)
        organisation = next((o for o in organisations if o.pk == chosen), None)
        if organisation is None and organisations:
            organisation = organisations[0]
        request.organisation = organisation
        request.roles = roles_in(request.user, organisation)
        # An empty list filters everything out: a user with no membership sees nothing.
        with scope(organisation=[organisation] if organisation else []):
            return self.get_response(request)


class RequireTwoFactorMiddleware:
    """Staff who passed the password step but not the second factor reach only the 2FA pages.

    A user with no confirmed device is sent to set one up; everyone else to enter a code.
    """

    OPEN = {"accounts-login", "accounts-logout", "accounts-2fa-setup", "accounts-2fa-verify",
            "accounts-2fa-recovery-codes", "healthz", "practice-welcome"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.url_name in self.OPEN:
            return None
        from django.shortcuts import redirect
        from django.utils.http import urlencode
        from django_otp import devices_for_user

        target = "accounts-2fa-verify" if any(devices_for_user(user, confirmed=True)) else "accounts-2fa-setup"
        response = redirect(target)
        response["Location"] += "?" + urlencode({"next": request.get_full_path()})
        return response
