"""An S3-compatible object store for tests: moto's server, a separate process speaking S3's HTTP protocol, with one
bucket; what ZOOBOARD_STORAGE=s3 points at (S3 itself, MinIO, Ceph... in production)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.integration.processes import REPO, ServiceProcess

S3_ACCESS_KEY, S3_SECRET_KEY = "zooboard-test", "zooboard-test-secret"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


class ObjectStore(ServiceProcess):
    """The server on every address of this machine (so that other hosts reach it too), with one bucket."""

    def __init__(self, scratch: Path, port: int, bucket: str):
        self.port, self.bucket = port, bucket
        command = [sys.executable, "-m", "moto.server", "-H", "0.0.0.0", "-p", str(port)]
        super().__init__("object-store", command, {**os.environ}, scratch)
        self.wait_for(lambda: _answers(port))
        self.client().create_bucket(Bucket=bucket)

    def client(self, address: str = "127.0.0.1"):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=f"http://{address}:{self.port}",
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
            region_name="us-east-1",
        )

    def env(self, address: str) -> dict[str, str]:
        """The storage settings of a process that reaches the store at this address."""
        return {
            "ZOOBOARD_STORAGE": "s3",
            "ZOOBOARD_S3_BUCKET": self.bucket,
            "ZOOBOARD_S3_ENDPOINT_URL": f"http://{address}:{self.port}",
            "ZOOBOARD_S3_REGION": "us-east-1",
            "ZOOBOARD_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "ZOOBOARD_S3_SECRET_KEY": S3_SECRET_KEY,
        }

    def settings(self) -> dict:
        """STORAGES as config/settings.py makes them from this store's environment (ZOOBOARD_STORAGE=s3...),
        read from a fresh process: the settings' own S3 branch, not a copy of it."""
        script = (
            "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; import django; "
            "django.setup(); from django.conf import settings; print(json.dumps(settings.STORAGES))"
        )
        made = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO,
            env={**os.environ, **self.env("127.0.0.1")},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(made.stdout.strip().splitlines()[-1])

    def names(self, prefix: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))
