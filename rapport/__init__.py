"""Rapport: feedback-informed treatment, self-hosted."""

__version__ = "0.1.0"
