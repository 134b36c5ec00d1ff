"""This repository's code location: the SCAR curation asset graph, one module per stage."""
