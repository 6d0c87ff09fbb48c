"""Async client of Schneider Electric's EcoStruxure Facility Expert Data API, and its models."""

from . import paths
from .client import FacilityExpertClient

__all__ = ["FacilityExpertClient", "paths"]
