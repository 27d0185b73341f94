"""Apple School Manager: read-only inventory and which MDM server owns each device."""

from connectors.apple_school_manager.connector import AppleSchoolManagerConnector, create_connector

__all__ = ["AppleSchoolManagerConnector", "create_connector"]
