"""Drawing: charts and printable cards from tables already computed (matplotlib)."""
