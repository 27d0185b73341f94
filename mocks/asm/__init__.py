"""Fake Apple School Manager API: OAuth client assertion, org devices, MDM servers, activities."""
