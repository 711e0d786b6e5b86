"""The benchmark's URLconf: the normal site plus the floor view.

The floor is a minimal Django view that inserts one row, so the benchmark can show the cost
of a check-in submission beside Django + PostgreSQL doing the least possible work.
"""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (payload) VALUES (%s)", [request.POST.get("x", "")])
    return HttpResponse("ok")


urlpatterns = [
    path("bench/floor/", floor),
    path("", include("rapport.urls")),
]
