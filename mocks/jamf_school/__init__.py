"""Fake Jamf School API: Basic auth per API key, devices, static groups, read-only profiles."""

from mocks.jamf_school.app import create_app, jamf_school_state_of
from mocks.jamf_school.state import JamfSchoolOptions

__all__ = ["JamfSchoolOptions", "create_app", "jamf_school_state_of"]
