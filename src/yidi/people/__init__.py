"""Insured persons, their insurance records and chronic-disease qualifications."""
