"""Fake Jamf School API: Basic auth per API key, devices, static groups, read-only profiles."""
