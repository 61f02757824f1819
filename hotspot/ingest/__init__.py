"""Readers, one per source format, and the canonical occurrence schema."""
