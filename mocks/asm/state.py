"""Options and mutable state of one fake Apple School Manager.

`mocks.asm.app.create_app` builds an `AsmState` from the fleet and `AsmOptions`; every route and
control hook reads and changes it. The options are the start-time knobs; the control API
(`mocks.asm.control`) changes the same fields at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mocks.asm.activities import ActivityBook
from mocks.asm.assertion import AssertionRules, RegisteredClient
from mocks.asm.budget import BudgetRule, RequestBudget
from mocks.asm.catalog import AsmCatalog, build_catalog
from mocks.asm.tokens import ACCESS_TOKEN_LIFETIME, TokenStore
from mocks.clock import Clock
from mocks.fleet import Fleet


@dataclass(frozen=True, kw_only=True)
class AsmOptions:
    """Start-time behaviour of the fake; defaults follow the reference sheet."""

    clients: tuple[RegisteredClient, ...] = ()
    assertion_rules: AssertionRules = field(default_factory=AssertionRules)
    token_lifetime: timedelta = ACCESS_TOKEN_LIFETIME
    get_budget: BudgetRule = field(
        default_factory=lambda: BudgetRule(requests=20, window=timedelta(minutes=1))
    )
    post_budget: BudgetRule = field(
        default_factory=lambda: BudgetRule(requests=10, window=timedelta(hours=1))
    )
    activity_processing_time: timedelta = timedelta(seconds=30)
    home_server_name: str = "mdm-bridge school MDM"
    # Apple answers 406 unless JSON is asked for; a wildcard Accept is refused too unless relaxed.
    refuse_wildcard_accept: bool = True
    # Let due devices check in before each request, so a lone ASM app needs no ticker.
    tick_fleet_on_request: bool = True


@dataclass(kw_only=True)
class AsmState:
    """Everything one fake ASM remembers between requests."""

    fleet: Fleet
    clock: Clock
    options: AsmOptions
    catalog: AsmCatalog
    clients: dict[str, RegisteredClient]
    tokens: TokenStore
    get_budget: RequestBudget
    post_budget: RequestBudget
    activities: ActivityBook
    spent_jtis: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, fleet: Fleet, clock: Clock, options: AsmOptions) -> AsmState:
        return cls(
            fleet=fleet,
            clock=clock,
            options=options,
            catalog=build_catalog(fleet, home_server_name=options.home_server_name),
            clients={client.client_id: client for client in options.clients},
            tokens=TokenStore(lifetime=options.token_lifetime),
            get_budget=RequestBudget(rule=options.get_budget),
            post_budget=RequestBudget(rule=options.post_budget),
            activities=ActivityBook(
                seed=fleet.config.seed, processing_time=options.activity_processing_time
            ),
        )

    def now(self) -> datetime:
        return self.clock.now()

    def register_client(self, client: RegisteredClient) -> None:
        """Add or replace an API account, as an administrator does in the ASM portal."""
        self.clients[client.client_id] = client

    def expire_all_tokens(self) -> int:
        return self.tokens.expire_all()

    def settle(self) -> None:
        """Bring the fake up to the clock: due check-ins and finished activities."""
        if self.options.tick_fleet_on_request:
            self.fleet.tick()
        self.activities.settle(self.catalog, self.now())
