from django_scopes import scope

from rapport.accounts.roles import organisations_of, roles_in

SESSION_ORGANISATION_KEY = "rapport_organisation"


class OrganisationScopeMiddleware:
    """Sets request.organisation and request.roles, and activates the organisation scope.

    A staff user works in one organisation at a time (the one chosen in their session, else their
    first). Every scoped query in the request is then limited to it. Anonymous requests get no
    scope at all: clinical queries made for them raise, unless a view opens a scope deliberately
    (a check-in link, for example, opens its own client's organisation).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organisation = None
        request.roles = frozenset()
        if not request.user.is_authenticated:
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
