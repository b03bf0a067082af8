"""o2c: order-to-cash as Prefect flows over one DuckDB warehouse."""

__version__ = "0.1.0"
