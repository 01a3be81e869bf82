"""Synthetic demo data: institutions and insured persons across the demo regions."""
