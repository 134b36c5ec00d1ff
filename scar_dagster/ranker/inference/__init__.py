"""Scoring instruction/response pairs with a trained StyleRanker.

- ``scoring``: streaming, length-bucketed scoring of pairs (``score_pairs``, ``iter_scores``).
- ``store_scoring``: a ranker version from the store, loaded and converted once per process.
- ``incremental``: score only the pairs a version has not scored yet, into the SQL table.
- ``toolkit``: ``rank_and_filter`` with the meaning of SCAR's toolkit function.
"""
