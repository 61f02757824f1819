"""The Streamlit app's glue: caches, controls, panels, uploads, access, warm-up.

Pages live in ``app_pages/``; everything they compute comes from the core
(:mod:`hotspot.analysis`, :mod:`hotspot.selection`, :mod:`hotspot.export.build`)
through :mod:`hotspot.app.cache`. Nothing outside this package imports it.
"""
