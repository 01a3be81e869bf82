"""Direct settlement (直接结算): the engine, visits, fee lines, settlements and year-to-date accumulators."""
