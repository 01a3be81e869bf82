"""Shared basics: money, dates, identifiers, errors, configuration and the database session."""
