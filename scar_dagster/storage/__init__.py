"""Storage layer: SQL tables for scores and selection decisions, storage layout."""
