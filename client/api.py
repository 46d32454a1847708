"""A thin httpx wrapper over Zooboard's REST API; every refusal becomes a ClientError with the server's sentence."""

from __future__ import annotations

import json
from pathlib import Path

import httpx


class ClientError(Exception):
    """What the server refused (its {"error": ...} sentence), or why it could not be reached."""


class ZooboardClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 120.0):
        headers = {"Authorization": f"Token {token}"} if token else {}
        self.http = httpx.Client(base_url=url.rstrip("/") + "/api/", headers=headers, timeout=timeout)

    def _request(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ClientError(f"cannot reach {self.http.base_url}: {error}") from None
        if response.is_success:
            return response.json()
        try:
            message = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            message = f"the server answered {response.status_code} {response.reason_phrase}"
        raise ClientError(message)

    def submit(self, model: Path, testset: str, name: str = "", preprocessing: dict | None = None) -> dict:
        data = {"testset": testset, "name": name, "preprocessing": json.dumps(preprocessing or {})}
        with model.open("rb") as handle:
            return self._request("POST", "submissions/", data=data, files={"model_file": (model.name, handle)})

    def submission(self, submission_id: int) -> dict:
        return self._request("GET", f"submissions/{submission_id}/")

    def cancel(self, submission_id: int) -> dict:
        return self._request("POST", f"submissions/{submission_id}/cancel/")

    def quota(self, testset: str | None = None) -> dict:
        return self._request("GET", "submissions/quota/", params={"testset": testset} if testset else {})

    def leaderboard(self, testset: str, label_set: str = "original", **view) -> dict:
        """One page of a board; view: sort, order, page, per_page and the filters (model_format, arch, owner,
        params_min, params_max, since, until, q), as the API takes them."""
        params = {"label_set": label_set, **{key: value for key, value in view.items() if value is not None}}
        return self._request("GET", f"testsets/{testset}/leaderboard/", params=params)
