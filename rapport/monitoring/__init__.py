"""The monitoring core: from an episode's history to findings a therapist can act on.

Pure Python with numpy (no Django, no database). Input: plain records (`EpisodeHistory` and
its parts). Output: `Finding`s as data. See README.md for the rules, thresholds and sources.

    from rapport.monitoring import EpisodeHistory, OutcomeSeries, Scale, analyze_episode
    ep = EpisodeHistory("e1", outcomes=(OutcomeSeries.of("phq9", {1: 18, 2: 22, 3: 25},
                                                         Scale(reliable_change=6, cutoff=10)),))
    [f.kind for f in analyze_episode(ep)]
"""

from rapport.monitoring.analyze import analyze_episode, analyze_many, open_findings
from rapport.monitoring.dropout import DropoutReason, DropoutRisk, dropout_risk
from rapport.monitoring.outcome import OutcomeSummary, PairedSummary, classify, paired, summarize
from rapport.monitoring.records import (
    AllianceSeries,
    Attendance,
    CheckIn,
    EpisodeHistory,
    Finding,
    GoalRating,
    OutcomeSeries,
    RiskFlag,
    Scale,
)
from rapport.monitoring.trajectories import ExpectedTrajectories, TrajectoryModel, default_model

__all__ = [
    "AllianceSeries",
    "Attendance",
    "CheckIn",
    "DropoutReason",
    "DropoutRisk",
    "EpisodeHistory",
    "ExpectedTrajectories",
    "Finding",
    "GoalRating",
    "OutcomeSeries",
    "OutcomeSummary",
    "PairedSummary",
    "RiskFlag",
    "Scale",
    "TrajectoryModel",
    "analyze_episode",
    "analyze_many",
    "classify",
    "default_model",
    "dropout_risk",
    "open_findings",
    "paired",
    "summarize",
]
