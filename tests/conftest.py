"""Shared pytest fixtures."""

if __package__:  # tests/ is a package
    from .postgres_server import postgres_url  # noqa: F401
else:  # rootdir-style imports: tests/ itself is on sys.path
    from postgres_server import postgres_url  # noqa: F401
