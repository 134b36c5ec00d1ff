"""The StyleRanker's life cycle: build, train, save, import, publish, promote.

- ``architecture``: ``StyleRanker`` and ``RankerConfig``; building one around an encoder.
- ``losses``: SCAR's ranking and representation losses.
- ``train``: the training loop, keeping the best epoch, and pairwise accuracy.
- ``checkpoint``: strict safetensors checkpoints and their version hash.
- ``published``: importing the rankers the SCAR authors publish; ``load_ranker`` for any folder.
- ``registry``: checkpoints in a store and the champion record.
- ``service``: train (or import) a challenger, gate it and promote it over the champion.
"""
