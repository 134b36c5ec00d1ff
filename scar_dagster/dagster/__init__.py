"""The Dagster layer: the only sub-package of ``scar_dagster`` that imports dagster."""
