"""The ranker's training data (SCAR, arXiv 2406.10882, section 3).

- ``quadruple``: the quadruple record, SCAR's quality constraint, the seeded split, fingerprints.
- ``preference``: ``(instruction, chosen, rejected)`` preference pairs, parsed from many layouts.
- ``records``: a training record is either; rows made into records.
- ``scar_data``: SCAR's released training-data folder.
- ``training_data``: quadruple JSONL files, and quadruples generated with a chat backend.
- ``judge``: the quality judges that rate LLM-written answers (heuristic, local LM, chat).
- ``sourcing``: one entry for all of it: read any format from a location, or generate.
"""
