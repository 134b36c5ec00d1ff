"""Ingest: read landing-zone files, normalize rows into pairs, quarantine what is bad."""
