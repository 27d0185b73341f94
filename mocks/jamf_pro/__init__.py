"""Jamf Pro front of the mock MDM: Pro API (``/api``) and Classic API (``/JSSResource``).

Build it with ``mocks.jamf_pro.app.build_jamf_pro_app``. Behaviour follows Jamf's documented API
(11.30.1 by default): token auth, inventory with RSQL filters and capped paging, v2 MDM commands,
Classic static groups, configuration profiles and commands, and Jamf's error bodies.
"""
