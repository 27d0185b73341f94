"""How mdm-bridge talks to each MDM: the contract (`base`), the shared HTTP layer (`http`),
one package per vendor, and the registry that maps a vendor name to its connector.

Vendor words stay inside this package; everything else speaks `mdm_bridge.model`.
"""
