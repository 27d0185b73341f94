"""Mock MDM: a stateful fake of Jamf Pro, Jamf School and Apple School Manager.

A simulated fleet of iPads (``mocks.fleet``) sits behind one FastAPI app per vendor, with fault
knobs and a ground-truth control API under ``/_mock/``. Written from the vendors' documented
behaviour, never from our connectors; imports nothing from the service.
"""
