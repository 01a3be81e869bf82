"""Reference data: administrative divisions, pooling regions, institutions, chronic-disease codes."""
