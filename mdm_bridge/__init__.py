"""mdm-bridge: a school's iPad online-safety policy, enforced through its MDM, proven in an audit.

The package is the service itself (see DESIGN.md §2): shared vocabulary (`model`), time (`clock`),
settings, storage (`store`), the composition root (`service`), the HTTP API (`api`) and the CLI.
"""

__version__ = "0.1.0"
