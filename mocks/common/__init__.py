"""HTTP plumbing shared by every vendor front of the mock MDM.

``MockVendor`` bundles one vendor's fleet, clock, fault knobs, request log and connection gauge;
``install_mock_plumbing(app, vendor)`` adds the fault/log middleware and the ``/_mock/`` control
API to a vendor's FastAPI app.
"""
