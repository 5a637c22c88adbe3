"""The GitHub stand-in itself: its contract source, pagination and error answers.

Raw HTTP here (urllib), so these tests pin the stand-in's wire behaviour independently of
PyGithub.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

import pytest
from ghserver import User
from ghserver.contract import (
    FRAGMENT,
    PINNED_VERSION,
    _fragment_from,
    description_path,
    load_contract,
)
from ghserver.fixtures import PR


def call(
    url: str, method: str = "GET", token: str | None = "user-token", body: Any = None
) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def test_vendored_fragment_matches_the_installed_description():
    path = description_path()
    if path is None:
        pytest.skip(
            "GitHub's OpenAPI description is not installed (scripts/install_github_openapi.sh); "
            "the tests validate against the vendored fragment"
        )
    vendored = json.loads(FRAGMENT.read_text(encoding="utf-8"))
    fresh = _fragment_from(path)
    assert fresh["x-source"]["version"] == PINNED_VERSION
    assert vendored == json.loads(json.dumps(fresh)), (
        "openapi_fragment.json is stale: python tests/ghserver/contract.py --write-fragment"
    )


def test_contract_catches_a_drifted_body():
    contract = load_contract()
    template = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
    problems = contract.check_response("post", template, 201, {"id": "1", "body": "x"})
    assert any("not of type 'integer'" in p for p in problems)
    assert any("'user' is a required property" in p for p in problems)
    comment_template = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
    assert contract.check_response("delete", comment_template, 204, None) == []
    assert contract.check_response("delete", comment_template, 204, {}) != []


def test_pagination_links_are_absolute_on_the_stand_ins_address(standin):
    for i in range(120):
        standin.add_comment(PR, f"c{i}", User("alice", 11))
    base = f"{standin.url}/repos/acme/shop/issues/{PR}/comments"

    status, headers, first = call(f"{base}?per_page=50")
    assert status == 200 and len(first) == 50 and first[0]["body"] == "c0"
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', headers["Link"]))
    assert set(links) == {"next", "last"}
    assert links["next"].startswith(f"{standin.url}/repositories/4242/issues/{PR}/comments?")
    assert "page=3" in links["last"]

    status, headers, third = call(links["last"])
    assert status == 200 and [c["body"] for c in third] == [f"c{i}" for i in range(100, 120)]
    rels = re.findall(r'rel="(\w+)"', headers["Link"])
    assert rels == ["prev", "first"]

    _, _, default = call(base)
    assert len(default) == 30  # GitHub's default page size


def test_error_answers_follow_github(standin):
    api = f"{standin.url}/repos/acme/shop"

    status, _, body = call(f"{standin.url}/user", token="actions-token")
    assert status == 403 and body["message"] == "Resource not accessible by integration"
    assert body["documentation_url"].startswith("https://docs.github.com/")

    status, _, body = call(f"{api}/issues/{PR}/comments", "POST", "fork-token", {"body": "x"})
    assert status == 403 and body["message"] == "Resource not accessible by integration"

    status, _, body = call(f"{api}/issues/{PR}/comments", "POST", "nope", {"body": "x"})
    assert status == 401 and body["message"] == "Bad credentials"

    status, _, body = call(f"{api}/issues/{PR}/comments", "POST", None, {"body": "x"})
    assert status == 401 and body["message"] == "Requires authentication"

    status, _, body = call(f"{api}/issues/{PR}/comments", "POST", body={"body": "x" * 65_537})
    assert status == 422 and body["message"] == "Validation Failed"
    assert "maximum is 65536 characters" in body["errors"][0]["message"]

    status, _, body = call(f"{api}/issues/{PR}/comments", "POST", body={"body": "x" * 65_536})
    assert status == 201 and body["user"]["login"] == "perfgate-dev"

    status, _, _ = call(f"{api}/issues/comments/1", "PATCH", body={"body": "x"})
    assert status == 404
    status, _, _ = call(f"{standin.url}/repos/acme/other/pulls/{PR}")
    assert status == 404
    assert standin.contract_violations == []

    # A request body GitHub would refuse is answered with 422 and recorded as a violation.
    status, _, _ = call(f"{api}/issues/{PR}/comments", "POST", body={"text": "x"})
    assert status == 422
    assert standin.contract_violations == [
        "request POST /repos/{owner}/{repo}/issues/{issue_number}/comments: "
        "(root): 'body' is a required property"
    ]
    standin.contract_violations.clear()


def test_rate_limit_headers_on_every_answer(standin):
    _, headers, _ = call(f"{standin.url}/repos/acme/shop")
    assert int(headers["X-RateLimit-Remaining"]) > 0
    assert headers["X-RateLimit-Resource"] == "core"
