"""A thin httpx wrapper over Zooboard's REST API; every refusal becomes a ClientError with the server's sentence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

# the model card the API takes at submit time (leaderboard/models/submissions.py: CARD_FIELDS)
CARD_FIELDS = ("description", "paper_url", "code_url", "licence", "architecture")


class ClientError(Exception):
    """What the server refused (its {"error": ...} sentence and status), or why it could not be reached
    (status None)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ZooboardClient:
    def __init__(
        self, url: str, token: str | None = None, timeout: float = 120.0, warn: Callable[[str], None] | None = None
    ):
        """warn: told when a read is retried without a token the server refused (public data needs none)."""
        self.token, self.warn = token, warn or (lambda message: None)
        headers = {"Authorization": f"Token {token}"} if token else {}
        self.http = httpx.Client(base_url=url.rstrip("/") + "/api/", headers=headers, timeout=timeout)

    def _request(self, method: str, path: str, **kwargs) -> dict:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and method == "GET" and self.token:
            # a revoked or mistyped token: public reads still work as a guest, and say so
            self.warn(f"the token was refused ({_sentence(response)}); reading as a guest")
            self.http.headers.pop("Authorization", None)
            self.token = None
            response = self._send(method, path, **kwargs)
        if response.is_success:
            return response.json()
        raise ClientError(_sentence(response), response.status_code)

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ClientError(f"cannot reach {self.http.base_url}: {error}") from None

    def submit(
        self,
        testset: str,
        model: Path | None = None,
        identifier: str = "",
        name: str = "",
        preprocessing: dict | None = None,
        card: dict | None = None,
    ) -> dict:
        """An ONNX file (model), or a timm identifier with or without its weights as safetensors (model). card: the
        model card's fields (CARD_FIELDS), those given."""
        data = {
            "testset": testset,
            "name": name,
            "model_identifier": identifier,
            "preprocessing": json.dumps(preprocessing or {}),
            **{key: value for key, value in (card or {}).items() if value},
        }
        if model is None:
            return self._request("POST", "submissions/", data=data)
        with model.open("rb") as handle:
            return self._request("POST", "submissions/", data=data, files={"model_file": (model.name, handle)})

    def testset(self, name: str) -> dict:
        return self._request("GET", f"testsets/{name}/")

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


def _sentence(response: httpx.Response) -> str:
    try:
        body = response.json()
        return body["error"] if "error" in body else body["detail"]
    except (ValueError, KeyError, TypeError):
        return f"the server answered {response.status_code} {response.reason_phrase}"
