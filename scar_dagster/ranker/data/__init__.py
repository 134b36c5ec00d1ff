"""The ranker's training data (SCAR, arXiv 2406.10882, section 3).

- ``quadruple``: the quadruple record, SCAR's quality constraint, the seeded split, fingerprints.
- ``preference``: ``(instruction, chosen, rejected)`` preference pairs, parsed from many layouts.
- ``records``: a training record is either; rows made into records.
- ``scar_data``: the SCAR toolkit's training-data folder, read and written.
- ``training_data``: quadruple JSONL files, and quadruples generated with a chat backend.
- ``judge``: the quality judges that rate LLM-written answers (heuristic, local LM, chat).
- ``score_parsing``: reading a chat judge's 0-9 rating (ours, or the SCAR toolkit's rule).
- ``sourcing``: one entry for all of it: read any format from a location, or generate.
"""
