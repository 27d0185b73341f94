"""Fake Apple School Manager API: OAuth client assertion, org devices, MDM servers, activities."""

from mocks.asm.app import asm_state_of, create_app
from mocks.asm.state import AsmOptions

__all__ = ["AsmOptions", "asm_state_of", "create_app"]
