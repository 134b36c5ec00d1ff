"""Every name ``scar_dagster.ranker`` exports lazily resolves to its submodule's object."""

import importlib

import scar_dagster.ranker as ranker


def test_every_lazy_export_resolves():
    for name, module in ranker._EXPORTS.items():
        source = importlib.import_module(f"scar_dagster.ranker.{module}")
        assert getattr(ranker, name) is getattr(source, name), name
