"""Jamf Pro: inventory, Managed Lost Mode in bulk, and profiles scoped to bridge-owned groups."""

from connectors.jamf_pro.connector import JamfProConnector, create_connector

__all__ = ["JamfProConnector", "create_connector"]
