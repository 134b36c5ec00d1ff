"""Byte storage behind one interface: a local folder or an S3 bucket prefix.

Keys are relative posix paths (``raw_pairs/forum.parquet``). Writes are atomic for readers:
locally a temp file is renamed into place; on S3 a PUT is atomic by nature. This follows
dagster-aws: ``UPath`` lays out keys, a boto3 client moves the bytes (no s3fs needed).
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol


class StorageError(RuntimeError):
    """A storage operation failed; the message names the URI."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One stored object: its key relative to the store root, size and a change token."""

    key: str
    size: int
    version: str  # mtime_ns locally, ETag on S3: changes whenever the bytes change


def check_key(key: str) -> str:
    """Return ``key`` if it stays inside the store root, else raise ``ValueError``."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or any(part in ("..", "") for part in key.split("/")):
        raise ValueError(f"unsafe storage key {key!r}: keys are relative and may not contain '..'")
    return key


class BlobStore(Protocol):
    """What every store offers."""

    def uri(self, key: str = "") -> str: ...
    def exists(self, key: str) -> bool: ...
    def read_bytes(self, key: str) -> bytes: ...
    def open_read(self, key: str) -> IO[bytes]: ...
    def open_ranged(self, key: str) -> IO[bytes]: ...
    def write_bytes(self, key: str, data: bytes) -> None: ...
    def write_file(self, key: str, path: Path) -> None: ...
    def delete(self, key: str) -> None: ...
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...


STALE_TEMP_SECONDS = 3600


def _remove_stale_temps(target: Path) -> None:
    """Delete temp files of ``target`` left by writers killed over an hour ago.

    A live writer's temp file is younger than that, so concurrent writes are never disturbed.
    """
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if temp.stat().st_mtime < cutoff:
                temp.unlink()


class LocalStore:
    """A folder on the local filesystem."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def uri(self, key: str = "") -> str:
        return str(self._path(key)) if key else str(self.root)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def open_read(self, key: str) -> IO[bytes]:
        return self._path(key).open("rb")

    def open_ranged(self, key: str) -> IO[bytes]:
        """A seekable reader of ``key`` (the file itself)."""
        return self.open_read(key)

    def write_bytes(self, key: str, data: bytes) -> None:
        self._write(key, lambda handle: handle.write(data))

    def write_file(self, key: str, path: Path) -> None:
        """Copy the local file ``path`` to ``key`` (streamed, atomic like ``write_bytes``)."""
        with open(path, "rb") as source:
            self._write(key, lambda handle: shutil.copyfileobj(source, handle, 1 << 20))

    def _write(self, key: str, fill: Callable[[IO[bytes]], object]) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _remove_stale_temps(target)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.is_symlink():
                stat = path.stat()
                key = path.relative_to(self.root).as_posix()
                yield ObjectInfo(key=key, size=stat.st_size, version=str(stat.st_mtime_ns))


class S3Store:
    """A prefix of an S3 bucket, driven by a boto3 client (e.g. from dagster-aws ``S3Resource``)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str = "") -> str:
        full = self._key(key) if key else self.prefix
        return f"s3://{self.bucket}/{full}".rstrip("/")

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(f"cannot stat {self.uri(key)}: {error}") from error
        except BotoCoreError as error:  # no connection, timeouts: after botocore's retries
            raise StorageError(f"cannot stat {self.uri(key)}: {error}") from error
        return True

    def read_bytes(self, key: str) -> bytes:
        return self.open_read(key).read()

    def open_read(self, key: str) -> IO[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(self.uri(key)) from error
            raise StorageError(f"cannot read {self.uri(key)}: {error}") from error
        except BotoCoreError as error:  # no connection, timeouts: after botocore's retries
            raise StorageError(f"cannot read {self.uri(key)}: {error}") from error

    def open_ranged(self, key: str) -> IO[bytes]:
        """A seekable reader of ``key`` that fetches only the byte ranges read, one ranged GET
        per read (unbuffered: a Parquet reader reads whole column chunks): a reader of a few
        row groups downloads their column chunks and the footer, not the object."""
        with _s3_errors("stat", self.uri(key)):
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        size = int(head["ContentLength"])
        return RangedObject(self, key, size)

    def read_range(self, key: str, start: int, stop: int) -> bytes:
        """Bytes ``start .. stop - 1`` of ``key`` (one ranged GET)."""
        with _s3_errors("read", self.uri(key)):
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{stop - 1}"
            )
            return response["Body"].read()

    def write_bytes(self, key: str, data: bytes) -> None:
        with _s3_errors("write", self.uri(key)):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def write_file(self, key: str, path: Path) -> None:
        """Upload the local file ``path`` to ``key``, streamed from disk (one PUT)."""
        with open(path, "rb") as body, _s3_errors("write", self.uri(key)):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body)

    def delete(self, key: str) -> None:
        with _s3_errors("delete", self.uri(key)):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        root = f"{self.prefix}/" if self.prefix else ""
        full_prefix = root + (check_key(prefix.rstrip("/")) + "/" if prefix else "")
        with _s3_errors("list", self.uri(prefix)):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full_prefix
            )
            objects = [obj for page in pages for obj in page.get("Contents", [])]
        for obj in sorted(objects, key=lambda o: o["Key"]):
            if obj["Key"].endswith("/"):
                continue
            yield ObjectInfo(
                key=obj["Key"][len(root) :],
                size=int(obj.get("Size", 0)),
                version=str(obj.get("ETag", "")).strip('"'),
            )


class RangedObject(io.RawIOBase):
    """A read-only, seekable view of one S3 object; each read is one ranged GET."""

    def __init__(self, store: S3Store, key: str, size: int) -> None:
        self.store, self.key, self.size = store, key, size
        self.position = 0
        self.fetched = 0  # bytes downloaded so far

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self.position = base + offset
        return self.position

    def readinto(self, buffer: Any) -> int:
        stop = min(self.position + len(buffer), self.size)
        if stop <= self.position:
            return 0
        data = self.store.read_range(self.key, self.position, stop)
        buffer[: len(data)] = data
        self.position += len(data)
        self.fetched += len(data)
        return len(data)


@contextmanager
def _s3_errors(action: str, uri: str) -> Iterator[None]:
    """Turn botocore errors into a ``StorageError`` naming the action and the URI."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise StorageError(f"cannot {action} {uri}: {error}") from error


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into ``(bucket, prefix)``."""
    rest = uri[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, prefix.strip("/")


def open_store(uri: str, s3_client: Any | None = None) -> BlobStore:
    """Return the store for a local path or an ``s3://bucket/prefix`` URI."""
    if uri.startswith("s3://"):
        if s3_client is None:
            raise ValueError(f"{uri} needs an S3 client (configure the S3Resource)")
        bucket, prefix = parse_s3_uri(uri)
        return S3Store(s3_client, bucket, prefix)
    return LocalStore(uri)


SUCCESS_MARKER = "_SUCCESS"


def write_marked_folder(
    store: BlobStore, folder: str, payloads: dict[str, bytes], **meta: Any
) -> dict[str, Any]:
    """Write ``payloads`` under ``folder``, then a ``_SUCCESS`` manifest (sizes, sha256, meta).

    The marker comes last, so readers trust only folders that have it; a crashed attempt is
    simply written again. Returns the manifest.
    """
    import hashlib

    for name, data in payloads.items():
        store.write_bytes(f"{folder}/{name}", data)
    files = {
        name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in payloads.items()
    }
    return _write_marker(store, folder, files, meta)


def write_marked_files(
    store: BlobStore, folder: str, paths: Mapping[str, Path], **meta: Any
) -> dict[str, Any]:
    """``write_marked_folder`` for local files (``{name: path}``), each copied and hashed as a
    stream: memory holds a block, not the file."""
    import hashlib

    files = {}
    for name, path in paths.items():
        store.write_file(f"{folder}/{name}", path)
        digest = hash_file(hashlib.sha256(), path)
        files[name] = {"bytes": Path(path).stat().st_size, "sha256": digest.hexdigest()}
    return _write_marker(store, folder, files, meta)


def hash_file(digest: Any, path: Path | str) -> Any:
    """``digest`` (a ``hashlib`` object) updated with the bytes of ``path``, read in 1 MiB
    blocks; returned for chaining."""
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest


def _write_marker(
    store: BlobStore, folder: str, files: dict[str, dict], meta: Mapping[str, Any]
) -> dict[str, Any]:
    import json

    manifest = {**meta, "files": files}
    text = json.dumps(manifest, sort_keys=True, indent=2) + "\n"
    store.write_bytes(f"{folder}/{SUCCESS_MARKER}", text.encode("utf-8"))
    return manifest


def read_marker(store: BlobStore, folder: str) -> dict[str, Any] | None:
    """The manifest of a completely written folder, or None when it is absent or partial."""
    import json

    key = f"{folder}/{SUCCESS_MARKER}"
    return json.loads(store.read_bytes(key)) if store.exists(key) else None
