"""Long-lived configuration as Dagster resources: storage, database and models.

Each resource holds described fields and offers ``get_*``/``*_store`` methods returning the
plain objects the core library works with. Defaults are embedded in ``definitions.py`` so the
code location loads with no environment at all.
"""


from typing import Any

from dagster import ConfigurableResource, ResourceDependency
from dagster_aws.s3 import S3Resource
from pydantic import Field

from scar_dagster.io.storage import BlobStore, open_store


class StorageResource(ConfigurableResource):
    """Where the landing zone is read from and where assets are written (local or ``s3://``)."""

    root: str = Field(
        description="Storage root for assets, checkpoints and exports: a local folder or "
        "s3://bucket/prefix."
    )
    landing_zone: str = Field(
        description="Landing zone with one folder per data source: a local folder or "
        "s3://bucket/prefix."
    )
    s3: ResourceDependency[S3Resource] = Field(
        description="S3 client settings (dagster-aws), used only for s3:// locations."
    )

    def _client_for(self, uri: str) -> Any:
        return self.s3.get_client() if uri.startswith("s3://") else None

    def landing_store(self) -> BlobStore:
        """The landing zone as a store; keys are ``<source>/<file>``."""
        return open_store(self.landing_zone, self._client_for(self.landing_zone))

    def asset_store(self) -> BlobStore:
        """The storage root as a store; keys are ``<asset>/<partition>.parquet`` and so on."""
        return open_store(self.root, self._client_for(self.root))
