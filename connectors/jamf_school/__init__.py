"""Jamf School: inventory, observation, and bridge profiles applied by moving devices in groups."""

from connectors.jamf_school.connector import JamfSchoolConnector, create_connector

__all__ = ["JamfSchoolConnector", "create_connector"]
