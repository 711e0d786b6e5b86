"""Hypothesis-generated input into every form, every query parameter and the scoring path.

No input may cause a server error, and input that is rejected must store nothing. A new form
goes into FORMS (url name, arguments from the world, its field names, who posts it).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.instruments import instrument_ids, load
from tests.test_permission_matrix import MATRIX

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "0", "-1", "10", "11", "1e9", "NaN", "null", "true", "<script>", "' OR 1=1 --",
                     "2026-13-45", "00000000-0000-0000-0000-000000000000", "\x00", "a" * 20_000]),
)

# url name -> (arguments from the world, field names, poster)
FORMS = {
    "care-episode": (lambda w: [w.episode.code], ["presenting_concerns"], "therapist"),
    "care-session": (lambda w: [w.session.code], ["attendance"], "therapist"),
    "accounts-password": (lambda w: [], ["old_password", "new_password1", "new_password2"], "therapist"),
    "accounts-reauth": (lambda w: [], ["password", "code", "next"], "therapist"),
    "privacy-erase": (lambda w: [w.client.code], ["reason", "confirm"], "admin"),
    "privacy-retention": (lambda w: [], ["retain_days_after_last_episode", "keep_deidentified_scores"], "admin"),
}


def _counts() -> dict[str, int]:
    counts = {}
    for model in apps.get_models():
        if model._meta.app_label in {"sessions", "audit", "core", "otp_totp", "otp_static", "contenttypes"}:
            continue  # session renewal, audit of reads, rate-limit buckets and throttling change by design
        counts[model._meta.label] = model._base_manager.count()
    return counts


@pytest.mark.parametrize("name", sorted(FORMS))
def test_forms_survive_any_input(client, practice, name):
    args_of, fields, poster = FORMS[name]
    client.force_login(getattr(practice, poster))
    client.reauthenticate()
    url = reverse(name, args=args_of(practice))

    @FUZZ
    @given(values=st.fixed_dictionaries({f: text for f in fields}), extra=st.dictionaries(text, text, max_size=3))
    def post(values, extra):
        before = _counts()
        response = client.post(url, {**extra, **values})
        assert response.status_code < 500
        if response.status_code != 302:  # not accepted: nothing may have been stored
            assert _counts() == before

    post()


@pytest.mark.parametrize("name", sorted(n for n in MATRIX if n != "accounts-logout"))
def test_query_parameters_never_cause_a_server_error(client, practice, name):
    client.force_login(practice.admin if name.startswith(("audit", "privacy")) else practice.therapist)
    client.reauthenticate()
    url = reverse(name, args=MATRIX[name][0](practice))

    @FUZZ
    @given(params=st.dictionaries(
        st.one_of(text, st.sampled_from(["page", "next", "client", "user", "action", "date_from", "date_to"])),
        text, max_size=4))
    def get(params):
        assert client.get(url, params).status_code < 500

    get()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)


@pytest.mark.parametrize("instrument_id", instrument_ids())
@FUZZ
@given(answers=st.dictionaries(st.text(max_size=12), json_values, max_size=12))
def test_scoring_never_crashes_and_explains_every_rejection(instrument_id, answers):
    instrument = load(instrument_id)
    score = instrument.score(answers)
    result = score.to_json()
    assert set(result) >= {"instrument", "complete", "total", "errors", "flags"}
    if score.errors:
        assert all(isinstance(e, str) and e for e in result["errors"])
    if result["total"] is not None:
        assert not (isinstance(result["total"], float) and result["total"] != result["total"])  # no NaN
