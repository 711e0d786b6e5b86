"""Benchmark: a long history as a FHIR Bundle (what "Download my data" builds).

    .venv/bin/python bench/bench_fhir.py [--responses N]

N responses (half PHQ-9, half the relationship check-in with free text), each a
QuestionnaireResponse and the Observations of its scores, plus their Questionnaires and a
Patient. Printed, each measured in this run:
- build: the resources, built by rapport.instruments.fhir without checking them;
- floor: serialising the same resources to JSON (the least any export does);
- once: build, then check the whole Bundle once with fhir.resources (what the export does);
- twice: build checking every resource, then the Bundle again (what it did before);
and the ratios once/floor and twice/once. Target: the export of 1,000 responses well under
a request's patience (a few seconds on a 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import time

from rapport.instruments import fhir, load

PHQ9 = load("phq9")
REL = load("relationship-checkin")
COMPONENTS = ("trust", "empathy", "genuineness", "respect", "listening", "safety", "goals")


def entries(n: int, validate: bool) -> list[dict]:
    subject = "urn:uuid:00000000-0000-4000-8000-000000000001"
    result = [{"fullUrl": subject, "resource": {"resourceType": "Patient",
                                                "id": subject.rsplit(":", 1)[1]}}]
    for instrument in (PHQ9, REL):
        q = fhir.questionnaire(instrument, validate=validate)
        result.append({"fullUrl": f"urn:uuid:{fhir.stable_id('Q', q['url'])}", "resource": q})
    for k in range(n):
        rid = fhir.stable_id("response", k)
        if k % 2:
            instrument = PHQ9
            answers = {f"phq9-{i}": (i + k) % 4 for i in range(1, 10)}
        else:
            instrument = REL
            answers = {c: (k + i) % 11 for i, c in enumerate(COMPONENTS)} | {"not-right": f"note {k}"}
        qr = fhir.questionnaire_response(instrument, answers, id=rid, subject=subject,
                                         authored="2026-09-01T10:00:00+00:00", validate=validate)
        obs = fhir.observations(instrument, instrument.score(answers), response_id=rid,
                                derived_from=f"urn:uuid:{rid}", subject=subject,
                                effective="2026-09-01T10:00:00+00:00", validate=validate)
        result += [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in (qr, *obs)]
    return result


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1000)
    n = parser.parse_args().responses
    fhir.validate_resource({"resourceType": "Patient"})  # import the models before timing
    built: list = []
    build = timed(lambda: built.extend(entries(n, validate=False)))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": built}
    floor = timed(lambda: json.dumps(bundle))
    once = build + timed(lambda: fhir.validate_resource(bundle))
    twice = timed(lambda: fhir.validate_resource(
        {"resourceType": "Bundle", "type": "collection", "entry": entries(n, validate=True)}))
    print(f"{n} responses, {len(built)} entries")
    print(f"build {build:.2f} s, floor (JSON) {floor:.3f} s")
    print(f"export, checked once:  {once:.2f} s  ({once / floor:.0f}x the floor)")
    print(f"export, checked twice: {twice:.2f} s  ({twice / once:.2f}x checked once)")


if __name__ == "__main__":
    main()
