"""A formally verified checker for AI-cluster specs."""

__version__ = "0.1.0"
