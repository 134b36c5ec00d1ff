"""Shared pytest fixtures."""

if __package__:  # tests/ is a package
    from .moto_server import s3_endpoint  # noqa: F401
    from .postgres_server import postgres_url  # noqa: F401
else:  # rootdir-style imports: tests/ itself is on sys.path
    from moto_server import s3_endpoint  # noqa: F401
    from postgres_server import postgres_url  # noqa: F401
