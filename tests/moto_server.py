"""A local S3 API (moto) for the test session (fixture ``s3_endpoint``).

Runs ``moto.server.ThreadedMotoServer`` on 127.0.0.1 and a free port, with fake credentials in
the environment so that no real AWS profile is ever read. Environment changes go through a
``pytest.MonkeyPatch`` context and are undone when the session ends, as is the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint URL (``http://127.0.0.1:<port>``) of a moto S3 server with fake credentials."""
    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        patch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        no_proxy = os.environ.get("NO_PROXY", "")
        patch.setenv("NO_PROXY", ",".join(filter(None, [no_proxy, "127.0.0.1", "localhost"])))
        server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def reset_moto(endpoint: str) -> None:
    """Remove every bucket and object of the moto server at ``endpoint``."""
    import urllib.request

    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()


@pytest.fixture()
def s3(s3_endpoint: str):
    """The dagster-aws S3Resource of the moto server, with every bucket of earlier tests removed."""
    from dagster_aws.s3 import S3Resource

    reset_moto(s3_endpoint)
    return S3Resource(
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
