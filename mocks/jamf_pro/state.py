"""Settings and per-app state of the Jamf Pro mock.

``build_jamf_pro_app`` creates one ``JamfProState`` and stores it on ``app.state.jamf_pro``;
every route module reaches it through ``jamf_state(request)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from mocks.common.vendor import MockVendor
from mocks.device import Device
from mocks.fleet import Fleet
from mocks.jamf_pro.cluster import ClusterLag
from mocks.jamf_pro.privileges import ALL_PRIVILEGES
from mocks.jamf_pro.tokens import TokenStore

DEFAULT_VERSION = "11.30.1"


@dataclass(frozen=True, kw_only=True)
class ApiClientConfig:
    secret: str
    roles: tuple[str, ...] = ("api-role:1",)
    token_lifetime_seconds: int = 60


@dataclass(frozen=True, kw_only=True)
class JamfProSettings:
    version: str = DEFAULT_VERSION
    users: dict[str, str] = field(default_factory=lambda: {"bridge": "bridge-password"})
    api_clients: dict[str, ApiClientConfig] = field(
        # Demo credentials of a mock server, printed by `mdm-bridge mock`.
        default_factory=lambda: {
            "mdm-bridge": ApiClientConfig(secret="mdm-bridge-secret")  # noqa: S106
        }
    )
    user_token_lifetime_seconds: int = 1800
    # Privileges each API role grants; a client token holds the roles of its scope.
    api_roles: dict[str, frozenset[str]] = field(
        default_factory=lambda: {"api-role:1": ALL_PRIVILEGES}
    )
    # Whether Jamf refuses Lost Mode for an unsupervised device when the command is posted
    # (True) or lets the device fail it (False); the real behaviour is not documented.
    refuse_unsupervised_lost_mode_at_post: bool = False
    # Classic DeviceLock vanished from the command list in 11.23; whether it is refused is not
    # documented, so the mock refuses it unless told otherwise.
    classic_device_lock_accepted: bool = False
    # Devices whose inventory record is broken: STRICT listings answer 500, LENIENT null sections.
    broken_device_ids: frozenset[int] = frozenset()
    # Jamf Cloud nodes sync about once a minute: with a lag set, group reads without the sticky
    # jpro-ingress cookie show membership from before the latest writes (0 = one node, no lag).
    cluster_lag_seconds: float = 0.0
    # /api/v1/health-status exists on Jamf Cloud only; elsewhere it is a 404.
    health_status_enabled: bool = False
    # Devices whose Classic record carries lost_mode_enabled as text, as Jamf's own sample does.
    text_lost_mode_device_ids: frozenset[int] = frozenset()


@dataclass(kw_only=True)
class ClassicCommandRecord:
    command_id: int
    command: str
    uuids: list[str]


@dataclass(kw_only=True)
class JamfProState:
    settings: JamfProSettings
    vendor: MockVendor
    tokens: TokenStore = field(default_factory=TokenStore)
    disabled_clients: set[str] = field(default_factory=set)
    classic_commands: list[ClassicCommandRecord] = field(default_factory=list)
    cluster: ClusterLag = field(default_factory=ClusterLag)
    # Device orders for sort keys that never change (names, ids), built once per key.
    sorted_devices: dict[str, list[Device]] = field(default_factory=dict)

    @property
    def fleet(self) -> Fleet:
        return self.vendor.fleet

    def now(self) -> float:
        return self.vendor.fleet.now()

    def version_at_least(self, version: str) -> bool:
        return version_tuple(self.settings.version) >= version_tuple(version)


def version_tuple(version: str) -> tuple[int, ...]:
    numbers = version.split("-")[0].split(".")
    return tuple(int(part) for part in numbers if part.isdigit())


def jamf_state(request: Request) -> JamfProState:
    state: JamfProState = request.app.state.jamf_pro
    return state
