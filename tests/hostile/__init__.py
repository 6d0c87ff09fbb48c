"""Tests against services that answer as a hostile or merely different server would."""
