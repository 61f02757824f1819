"""Hotspot: serious-violence hot spots for the HIPS Violence Reduction Partnership."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
