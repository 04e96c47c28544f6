"""Object storage: S3-compatible (boto3) or a local folder, behind one small interface.

Chosen by the settings (:func:`make_object_store`): ``INFOMART_S3__BUCKET`` set -> S3 (with
``__ENDPOINT_URL``, ``__REGION``, ``__ACCESS_KEY_ID``, ``__SECRET_ACCESS_KEY``; credentials fall
back to boto3's usual chain), keys under ``INFOMART_S3__PREFIX``; unset -> the folder
``settings.local_objects`` (``INFOMART_OBJECT_STORE_DIR``, default ``<home>/objects``).

Keys are ``/``-separated relative paths (``config-snapshots/t1/latest.json``). A ``put`` is
atomic on both stores: a reader sees the old object or the new one, never a part (local:
write to a temporary file in the same folder, fsync, rename).

Used by the config adapter (configuration snapshots) and the export job (export/).
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from infomart.settings import S3Settings, Settings

MULTIPART_BYTES = 8 << 20


class ObjectNotFound(KeyError):
    """No object under this key."""


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        """The file's bytes under ``key``, streamed (S3: multipart above 8 MiB, parts retried)."""

    def get(self, key: str) -> bytes:
        """The object's bytes; raises :class:`ObjectNotFound` if there is none."""

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``, sorted."""

    def delete(self, key: str) -> None: ...

    def describe(self) -> str:
        """Where the objects are, for messages (``s3://bucket/prefix`` or a folder)."""


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key {key!r}: use a relative a/b/c path without '.' or '..'")
    return key


class LocalObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._write(key, io.BytesIO(data))

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        with open(path, "rb") as src:
            self._write(key, src)

    def _write(self, key: str, src: BinaryIO) -> None:
        """Atomically: a temporary file in the same folder, fsync, rename."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        if not self.root.exists():
            return []
        keys = (
            p.relative_to(self.root).as_posix()
            for p in self.root.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
        return sorted(k for k in keys if k.startswith(prefix))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def describe(self) -> str:
        return str(self.root.resolve())


class S3ObjectStore:
    def __init__(self, s3: S3Settings, client: object | None = None) -> None:
        import boto3
        import botocore.config

        if not s3.bucket:
            raise ValueError("S3ObjectStore needs INFOMART_S3__BUCKET")
        self.bucket = s3.bucket
        self.prefix = s3.prefix.strip("/") + "/" if s3.prefix.strip("/") else ""
        self.client = client or boto3.client(
            "s3",
            config=botocore.config.Config(retries={"max_attempts": 10, "mode": "standard"}),
            endpoint_url=s3.endpoint_url,
            region_name=s3.region,
            aws_access_key_id=s3.access_key_id,
            aws_secret_access_key=s3.secret_access_key,
        )

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)  # type: ignore[attr-defined]

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        from boto3.s3.transfer import TransferConfig

        # boto3's managed transfer: multipart above the threshold, each part retried by botocore;
        # an upload that dies leaves no object (S3 shows an object only when the upload completes)
        self.client.upload_file(  # type: ignore[attr-defined]
            str(path),
            self.bucket,
            self._key(key),
            ExtraArgs={"ContentType": content_type},
            Config=TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES),
        )

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise ObjectNotFound(key) from None
            raise

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))  # type: ignore[attr-defined]
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise

    def list(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(  # type: ignore[attr-defined]
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        n = len(self.prefix)
        return sorted(obj["Key"][n:] for page in pages for obj in page.get("Contents", []))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))  # type: ignore[attr-defined]

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def make_object_store(settings: Settings) -> ObjectStore:
    """S3 when ``INFOMART_S3__BUCKET`` is set, else the local folder."""
    if settings.s3.bucket:
        return S3ObjectStore(settings.s3)
    return LocalObjectStore(settings.local_objects)
