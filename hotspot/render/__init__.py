"""Printable and phone-sized renderings (matplotlib only, no internet)."""
