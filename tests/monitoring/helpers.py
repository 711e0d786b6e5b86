"""Small builders for monitoring tests."""

from __future__ import annotations

from rapport.monitoring import AllianceSeries, EpisodeHistory, OutcomeSeries, Scale

PHQ9 = Scale(reliable_change=6, cutoff=10, response_fraction=0.5, remission_below=5)


def alliance(totals: list[float], **kw: object) -> EpisodeHistory:
    """An episode with client alliance totals for sessions 1..n."""
    series = AllianceSeries.of(
        "relationship-checkin", {s: v for s, v in enumerate(totals, 1)}, **kw  # type: ignore[arg-type]
    )
    return EpisodeHistory("e", alliance=(series,))


def phq(scores: list[float]) -> EpisodeHistory:
    return EpisodeHistory(
        "e", outcomes=(OutcomeSeries.of("phq9", {s: v for s, v in enumerate(scores, 1)}, PHQ9),)
    )


def kinds(findings: list, kind: str) -> list:
    return [f for f in findings if f.kind == kind]
