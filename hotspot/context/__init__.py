"""What surrounds a hot spot: deprivation and population, fires, timing, profiles.

:mod:`~hotspot.context.deprivation` (IMD joins), :mod:`~hotspot.context.rates`
(rates, shares, concentration), :mod:`~hotspot.context.fires` (deliberate fires
and co-location), :mod:`~hotspot.context.temporal` (when violence happens) and
:mod:`~hotspot.context.profile` (a CSP's overlay and profile tables).
"""

from __future__ import annotations

from hotspot.lazy import lazy_api

__getattr__, __dir__, __all__ = lazy_api(__name__, {
    "attach_imd": "deprivation", "cells_imd": "deprivation", "load_imd": "deprivation",
    "lsoa_context": "deprivation", "rates_table": "rates", "decile_table": "rates",
    "concentration_table": "rates", "colocation_cells": "fires",
    "deliberate_fires": "fires", "locate_fires": "fires", "weekday_hour": "temporal",
    "monthly_trend": "temporal", "build_overlay": "profile",
    "build_profile": "profile",
})
