"""A stand-in for GitHub's REST API, for tests: a threaded ``http.server`` on 127.0.0.1.

It serves the endpoints perfgate's sticky comment uses, following GitHub's REST contract (and
checked against it, see :mod:`contract`):

* ``GET /user`` (403 "Resource not accessible by integration" for installation tokens),
* ``GET /repos/{o}/{r}``, ``GET /repos/{o}/{r}/pulls/{n}``,
* ``GET /repos/{o}/{r}/pulls/{n}/files`` (the files a PR changes, paged like comments),
* ``GET``/``POST /repos/{o}/{r}/issues/{n}/comments`` with ``per_page``/``page`` and ``Link``
  headers holding absolute URLs on its own address (as GitHub does, in the
  ``/repositories/{id}/...`` form, which it also serves),
* ``PATCH``/``DELETE /repos/{o}/{r}/issues/comments/{id}``.

Errors use GitHub's bodies (``{"message", "documentation_url", "status"}``). Tokens decide who
is calling (:class:`Token`): a user, the Actions ``GITHUB_TOKEN`` (``github-actions[bot]``), or
a fork PR's read-only token (403 on writes). Bodies longer than ``max_body`` get GitHub's 422.
:meth:`GitHubStandIn.inject` queues faults: any status with headers (``Retry-After``,
``x-ratelimit-*``), or a delay longer than the client's timeout, optionally after the request
took effect (a write that "timed out" but happened).

Every response and request body is validated against GitHub's OpenAPI description; violations
are collected in ``contract_violations`` (the fixtures fail a test that has any).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ghserver.contract import Contract, load_contract

DOCS = "https://docs.github.com/rest"
FORK_MESSAGE = "Resource not accessible by integration"
BOT_LOGIN = "github-actions[bot]"
BOT_ID = 41898282


@dataclass(frozen=True)
class User:
    login: str
    id: int
    type: str = "User"  # "User" or "Bot"


@dataclass(frozen=True)
class Token:
    """Who a token speaks for. Installation tokens get 403 from ``GET /user``."""

    user: User
    installation: bool = False
    write: bool = True


ACTIONS_BOT = User(BOT_LOGIN, BOT_ID, "Bot")
DEFAULT_TOKENS = {
    "user-token": Token(User("perfgate-dev", 1001)),
    "actions-token": Token(ACTIONS_BOT, installation=True),
    "fork-token": Token(ACTIONS_BOT, installation=True, write=False),
    "other-user-token": Token(User("someone-else", 1002)),
}


@dataclass
class Fault:
    """An injected answer for the next ``times`` requests matching ``method`` and ``path``.

    ``path`` is a regular expression searched in the request path (no query). ``delay`` seconds
    pass before answering; with ``after_effect`` the request is first handled normally (so a
    write happens) and its real answer is sent after the delay, typically too late.
    """

    method: str
    path: str
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1
    after_effect: bool = False


@dataclass
class PullState:
    number: int
    head_sha: str
    head_repo: str
    head_ref: str = "feature"
    base_ref: str = "main"
    title: str = "Make checkout faster"
    # The files the PR changes: (filename, status, patch or None, previous filename or None)
    files: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, message: str, doc: str = DOCS) -> dict[str, Any]:
    return {"message": message, "documentation_url": doc, "status": str(status)}


class GitHubStandIn:
    """The stand-in's state and server. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(
        self,
        owner: str = "acme",
        repo: str = "shop",
        *,
        tokens: dict[str, Token] | None = None,
        max_body: int = 65_536,
        contract: Contract | None = None,
    ) -> None:
        self.owner, self.repo = owner, repo
        self.full_name = f"{owner}/{repo}"
        self.repo_id = 4242
        self.tokens = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self.max_body = max_body
        self.contract = contract or load_contract()
        self.pulls: dict[int, PullState] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}  # PR number -> comments, oldest first
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str]] = []  # (method, path with query), as requests arrive
        self.statuses: list[int] = []  # the status of each answer, in the order sent
        self.contract_violations: list[str] = []
        self._ids = itertools.count(900_000_001)
        self._clock = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=dt.timezone.utc)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> GitHubStandIn:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- state for tests ---------------------------------------------------------------------

    def add_pull(
        self, number: int, head_sha: str, head_repo: str | None = None, **kw: Any
    ) -> PullState:
        with self._lock:
            pull = PullState(number, head_sha, head_repo or self.full_name, **kw)
            self.pulls[number] = pull
            self.comments.setdefault(number, [])
            return pull

    def set_files(self, number: int, *files: str | tuple[str, str, str | None, str | None]) -> None:
        """The files PR ``number`` changes: names (modified, with a small patch), or tuples of
        (filename, status, patch, previous_filename)."""
        with self._lock:
            self.pulls[number].files = [
                f if isinstance(f, tuple) else (f, "modified", "@@ -1 +1 @@\n-a\n+b", None)
                for f in files
            ]

    def set_head(self, number: int, head_sha: str) -> None:
        with self._lock:
            self.pulls[number].head_sha = head_sha

    def add_comment(self, number: int, body: str, user: User) -> int:
        """Seed a comment directly (as if someone had posted it)."""
        with self._lock:
            return self._create_comment(number, body, user)["id"]

    def bodies(self, number: int) -> list[str]:
        with self._lock:
            return [c["body"] for c in self.comments[number]]

    def comment_list(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self.comments[number]]

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def requests(self, method: str | None = None, contains: str = "") -> list[str]:
        """Paths requested (with query), optionally only one method and a substring."""
        with self._lock:
            return [p for m, p in self.log if (method in (None, m)) and contains in p]

    # -- JSON objects, shaped like GitHub's ---------------------------------------------------

    def _tick(self) -> dt.datetime:
        self._clock += dt.timedelta(seconds=7)
        return self._clock

    def user_json(self, user: User) -> dict[str, Any]:
        base = self.url
        login = urllib.parse.quote(user.login)
        return {
            "login": user.login,
            "id": user.id,
            "node_id": f"U_{user.id}",
            "avatar_url": f"{base}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": f"{base}/users/{login}",
            "html_url": f"{base}/{login}",
            "followers_url": f"{base}/users/{login}/followers",
            "following_url": f"{base}/users/{login}/following{{/other_user}}",
            "gists_url": f"{base}/users/{login}/gists{{/gist_id}}",
            "starred_url": f"{base}/users/{login}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/users/{login}/subscriptions",
            "organizations_url": f"{base}/users/{login}/orgs",
            "repos_url": f"{base}/users/{login}/repos",
            "events_url": f"{base}/users/{login}/events{{/privacy}}",
            "received_events_url": f"{base}/users/{login}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def private_user_json(self, user: User) -> dict[str, Any]:
        return {
            **self.user_json(user),
            "user_view_type": "private",
            "name": user.login,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "notification_email": None,
            "public_repos": 3,
            "public_gists": 0,
            "followers": 1,
            "following": 0,
            "created_at": "2020-02-02T10:00:00Z",
            "updated_at": "2025-12-01T10:00:00Z",
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 10,
            "collaborators": 0,
            "two_factor_authentication": True,
        }

    def repo_json(self, full_name: str | None = None, *, full: bool = False) -> dict[str, Any]:
        full_name = full_name or self.full_name
        owner, name = full_name.split("/")
        base = self.url
        api = f"{base}/repos/{full_name}"
        is_base = full_name == self.full_name
        data: dict[str, Any] = {
            "id": self.repo_id if is_base else self.repo_id + 1 + len(full_name),
            "node_id": f"R_{full_name}",
            "name": name,
            "full_name": full_name,
            "owner": self.user_json(User(owner, 5000 + len(owner), "Organization")),
            "private": False,
            "html_url": f"{base}/{full_name}",
            "description": "An example shop service",
            "fork": not is_base,
            "url": api,
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "assignees_url": f"{api}/assignees{{/user}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "comments_url": f"{api}/comments{{/number}}",
            "commits_url": f"{api}/commits{{/sha}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "contributors_url": f"{api}/contributors",
            "deployments_url": f"{api}/deployments",
            "downloads_url": f"{api}/downloads",
            "events_url": f"{api}/events",
            "forks_url": f"{api}/forks",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_url": f"git://127.0.0.1/{full_name}.git",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "issues_url": f"{api}/issues{{/number}}",
            "keys_url": f"{api}/keys{{/key_id}}",
            "labels_url": f"{api}/labels{{/name}}",
            "languages_url": f"{api}/languages",
            "merges_url": f"{api}/merges",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "releases_url": f"{api}/releases{{/id}}",
            "ssh_url": f"git@127.0.0.1:{full_name}.git",
            "stargazers_url": f"{api}/stargazers",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "tags_url": f"{api}/tags",
            "teams_url": f"{api}/teams",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "clone_url": f"{base}/{full_name}.git",
            "mirror_url": None,
            "hooks_url": f"{api}/hooks",
            "svn_url": f"{base}/{full_name}",
            "homepage": None,
            "language": "Go",
            "forks_count": 1,
            "forks": 1,
            "stargazers_count": 3,
            "watchers_count": 3,
            "watchers": 3,
            "size": 120,
            "default_branch": "main",
            "open_issues_count": len(self.pulls),
            "open_issues": len(self.pulls),
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "public",
            "pushed_at": "2026-01-05T08:00:00Z",
            "created_at": "2024-03-01T12:00:00Z",
            "updated_at": "2026-01-05T08:00:00Z",
            "license": None,
            "allow_forking": True,
            "web_commit_signoff_required": False,
        }
        if full:
            data.update({"network_count": 1, "subscribers_count": 2})
        return data

    def pull_json(self, pull: PullState) -> dict[str, Any]:
        base = self.url
        api = f"{base}/repos/{self.full_name}"
        html = f"{base}/{self.full_name}/pull/{pull.number}"
        author = User("contributor", 3003)
        head_owner = pull.head_repo.split("/")[0]

        def link(href: str) -> dict[str, str]:
            return {"href": href}

        return {
            "url": f"{api}/pulls/{pull.number}",
            "id": 7_000_000 + pull.number,
            "node_id": f"PR_{pull.number}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{pull.number}",
            "commits_url": f"{api}/pulls/{pull.number}/commits",
            "review_comments_url": f"{api}/pulls/{pull.number}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{pull.number}/comments",
            "statuses_url": f"{api}/statuses/{pull.head_sha}",
            "number": pull.number,
            "state": "open",
            "locked": False,
            "title": pull.title,
            "user": self.user_json(author),
            "body": "Speeds up checkout.",
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": "2026-01-05T08:30:00Z",
            "updated_at": "2026-01-05T08:45:00Z",
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{head_owner}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": pull.head_sha,
                "user": self.user_json(User(head_owner, 5000 + len(head_owner), "User")),
                "repo": self.repo_json(pull.head_repo),
            },
            "base": {
                "label": f"{self.owner}:{pull.base_ref}",
                "ref": pull.base_ref,
                "sha": "b" * 40,
                "user": self.user_json(User(self.owner, 5000 + len(self.owner), "Organization")),
                "repo": self.repo_json(),
            },
            "_links": {
                "self": link(f"{api}/pulls/{pull.number}"),
                "html": link(html),
                "issue": link(f"{api}/issues/{pull.number}"),
                "comments": link(f"{api}/issues/{pull.number}/comments"),
                "review_comments": link(f"{api}/pulls/{pull.number}/comments"),
                "review_comment": link(f"{api}/pulls/comments{{/number}}"),
                "commits": link(f"{api}/pulls/{pull.number}/commits"),
                "statuses": link(f"{api}/statuses/{pull.head_sha}"),
            },
            "author_association": "CONTRIBUTOR",
            "auto_merge": None,
            "draft": False,
            "merged": False,
            "mergeable": True,
            "rebaseable": True,
            "mergeable_state": "clean",
            "merged_by": None,
            "comments": len(self.comments.get(pull.number, [])),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": 1,
            "additions": 10,
            "deletions": 2,
            "changed_files": 1,
        }

    def file_json(
        self, pull: PullState, entry: tuple[str, str, str | None, str | None]
    ) -> dict[str, Any]:
        filename, status, patch, previous = entry
        quoted = urllib.parse.quote(filename)
        out: dict[str, Any] = {
            "sha": "9" * 40,
            "filename": filename,
            "status": status,
            "additions": 1,
            "deletions": 1,
            "changes": 2,
            "blob_url": f"https://github.com/{self.full_name}/blob/{pull.head_sha}/{quoted}",
            "raw_url": f"https://github.com/{self.full_name}/raw/{pull.head_sha}/{quoted}",
            "contents_url": f"{self.url}/repos/{self.full_name}/contents/{quoted}"
            f"?ref={pull.head_sha}",
        }
        if patch is not None:
            out["patch"] = patch
        if previous is not None:
            out["previous_filename"] = previous
        return out

    def _create_comment(self, number: int, body: str, user: User) -> dict[str, Any]:
        cid = next(self._ids)
        now = _iso(self._tick())
        api = f"{self.url}/repos/{self.full_name}"
        comment = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": f"{api}/issues/comments/{cid}",
            "html_url": f"{self.url}/{self.full_name}/pull/{number}#issuecomment-{cid}",
            "issue_url": f"{api}/issues/{number}",
            "body": body,
            "user": self.user_json(user),
            "created_at": now,
            "updated_at": now,
            "author_association": "NONE" if user.type == "User" else "CONTRIBUTOR",
            "performed_via_github_app": None,
            "reactions": {
                "url": f"{api}/issues/comments/{cid}/reactions",
                "total_count": 0,
                "+1": 0,
                "-1": 0,
                "laugh": 0,
                "hooray": 0,
                "confused": 0,
                "heart": 0,
                "rocket": 0,
                "eyes": 0,
            },
        }
        self.comments.setdefault(number, []).append(comment)
        return comment

    def _find_comment(self, cid: int) -> tuple[int, dict[str, Any]] | None:
        for number, comments in self.comments.items():
            for c in comments:
                if c["id"] == cid:
                    return number, c
        return None


# Route table: (method, regex, contract path template, handler method name)
_ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    ("GET", re.compile(r"^/user$"), "/user", "get_user"),
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)$"), "/repos/{owner}/{repo}", "get_repo"),
    (
        "GET",
        re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)$"),
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        "get_pull",
    ),
    (
        "GET",
        re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)/files$"),
        "/repos/{owner}/{repo}/pulls/{pull_number}/files",
        "list_files",
    ),
    (
        "GET",
        re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$"),
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        "list_comments",
    ),
    (
        "GET",
        re.compile(r"^/repositories/(\d+)/issues/(\d+)/comments$"),
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        "list_comments_by_id",
    ),
    (
        "POST",
        re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$"),
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        "create_comment",
    ),
    (
        "PATCH",
        re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$"),
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        "edit_comment",
    ),
    (
        "DELETE",
        re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$"),
        "/repos/{owner}/{repo}/issues/comments/{comment_id}",
        "delete_comment",
    ),
]

_DOC = {
    "get_user": f"{DOCS}/users/users#get-the-authenticated-user",
    "get_repo": f"{DOCS}/repos/repos#get-a-repository",
    "get_pull": f"{DOCS}/pulls/pulls#get-a-pull-request",
    "list_files": f"{DOCS}/pulls/pulls#list-pull-requests-files",
    "list_comments": f"{DOCS}/issues/comments#list-issue-comments",
    "list_comments_by_id": f"{DOCS}/issues/comments#list-issue-comments",
    "create_comment": f"{DOCS}/issues/comments#create-an-issue-comment",
    "edit_comment": f"{DOCS}/issues/comments#update-an-issue-comment",
    "delete_comment": f"{DOCS}/issues/comments#delete-an-issue-comment",
}


class _Reply(Exception):
    """Raised by route handlers to answer early (errors)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


class _Handler(BaseHTTPRequestHandler):
    standin: GitHubStandIn
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com-standin"

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    # -- plumbing ----------------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        path, query = parsed.path, urllib.parse.parse_qs(parsed.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with self.standin._lock:
            self.standin.log.append((method, self.path))
        route = next(((r, m) for r in _ROUTES if r[0] == method and (m := r[1].match(path))), None)
        template = route[0][2] if route else None

        fault = self._take_fault(method, path)
        if fault is not None and not fault.after_effect:
            time.sleep(fault.delay)
            self._send(method, template, fault.status, fault.body, fault.headers)
            return
        try:
            if route is None:
                raise _Reply(404, _error(404, "Not Found"))
            (_m, _rx, template, name), match = route
            status, body, headers = getattr(self, name)(match, query, raw, _DOC[name])
        except _Reply as reply:
            status, body, headers = reply.status, reply.body, reply.headers
        if fault is not None:  # the request took effect; the answer comes (too) late
            time.sleep(fault.delay)
        self._send(method, template, status, body, headers)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        s = self.standin
        with s._lock:
            for fault in s.faults:
                if fault.method in (method, "*") and re.search(fault.path, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        s.faults.remove(fault)
                    return fault
        return None

    def _send(
        self,
        method: str,
        template: str | None,
        status: int,
        body: Any,
        headers: dict[str, str],
    ) -> None:
        s = self.standin
        with s._lock:
            s.statuses.append(status)
            if template is not None and not isinstance(body, bytes):
                for problem in s.contract.check_response(method, template, status, body):
                    s.contract_violations.append(f"{method} {template} -> {status}: {problem}")
            remaining = max(0, 5000 - len(s.log))
        payload = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body)
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        out = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Request-Id": f"STANDIN:{len(s.log)}",
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": str(5000 - remaining),
            "X-RateLimit-Resource": "core",
        }
        for key, value in headers.items():  # the route's or fault's headers win
            for existing in [k for k in out if k.lower() == key.lower()]:
                del out[existing]
            out[key] = value
        out["Content-Length"] = str(len(payload))
        try:
            self.send_response(status)
            for key, value in out.items():
                self.send_header(key, value)
            self.end_headers()
            if payload and method != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def _caller(self, doc: str, *, write: bool = False) -> Token | None:
        """The token's identity; None for anonymous. Raises GitHub's 401/403 replies."""
        s = self.standin
        auth = self.headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if not auth:
            if write:
                raise _Reply(401, _error(401, "Requires authentication", doc))
            return None
        if scheme.lower() not in ("token", "bearer") or value not in s.tokens:
            raise _Reply(401, _error(401, "Bad credentials", DOCS))
        token = s.tokens[value]
        if write and not token.write:
            raise _Reply(403, _error(403, FORK_MESSAGE, doc))
        return token

    def _check_repo(self, owner: str, repo: str) -> None:
        if f"{owner}/{repo}".lower() != self.standin.full_name.lower():
            raise _Reply(404, _error(404, "Not Found", f"{DOCS}/repos/repos#get-a-repository"))

    def _pull(self, number: int, doc: str) -> PullState:
        pull = self.standin.pulls.get(number)
        if pull is None:
            raise _Reply(404, _error(404, "Not Found", doc))
        return pull

    def _json_body(self, raw: bytes, method: str, template: str, doc: str) -> dict[str, Any]:
        try:
            data = json.loads(raw or b"null")
        except ValueError:
            raise _Reply(400, _error(400, "Problems parsing JSON", doc)) from None
        problems = self.standin.contract.check_request(method, template, data)
        if problems:
            with self.standin._lock:
                self.standin.contract_violations.extend(
                    f"request {method} {template}: {p}" for p in problems
                )
            raise _Reply(422, {**_error(422, "Invalid request.", doc), "errors": []})
        return data

    def _too_long(self, body: str, doc: str) -> None:
        limit = self.standin.max_body
        if len(body) > limit:
            raise _Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "IssueComment",
                            "code": "custom",
                            "field": "body",
                            "message": f"body is too long (maximum is {limit} characters)",
                        }
                    ],
                    "documentation_url": doc,
                    "status": "422",
                },
            )

    # -- routes ------------------------------------------------------------------------------

    def get_user(self, m: re.Match[str], q: Any, raw: bytes, doc: str) -> tuple[int, Any, dict]:
        token = self._caller(doc)
        if token is None:
            raise _Reply(401, _error(401, "Requires authentication", doc))
        if token.installation:
            raise _Reply(403, _error(403, FORK_MESSAGE, doc))
        return 200, self.standin.private_user_json(token.user), {}

    def get_repo(self, m: re.Match[str], q: Any, raw: bytes, doc: str) -> tuple[int, Any, dict]:
        self._caller(doc)
        self._check_repo(m.group(1), m.group(2))
        return 200, self.standin.repo_json(full=True), {}

    def get_pull(self, m: re.Match[str], q: Any, raw: bytes, doc: str) -> tuple[int, Any, dict]:
        self._caller(doc)
        self._check_repo(m.group(1), m.group(2))
        with self.standin._lock:
            return 200, self.standin.pull_json(self._pull(int(m.group(3)), doc)), {}

    def list_files(self, m: re.Match[str], q: Any, raw: bytes, doc: str) -> tuple[int, Any, dict]:
        s = self.standin
        self._caller(doc)
        self._check_repo(m.group(1), m.group(2))
        number = int(m.group(3))
        per_page, page = self._paging(q, doc)
        with s._lock:
            pull = self._pull(number, doc)
            files = [s.file_json(pull, f) for f in pull.files]
        base = f"{s.url}/repos/{s.full_name}/pulls/{number}/files"
        return self._page(files, per_page, page, base)

    def list_comments(
        self, m: re.Match[str], q: Any, raw: bytes, doc: str
    ) -> tuple[int, Any, dict]:
        self._check_repo(m.group(1), m.group(2))
        return self._list(int(m.group(3)), q, doc)

    def list_comments_by_id(
        self, m: re.Match[str], q: Any, raw: bytes, doc: str
    ) -> tuple[int, Any, dict]:
        if int(m.group(1)) != self.standin.repo_id:
            raise _Reply(404, _error(404, "Not Found", doc))
        return self._list(int(m.group(2)), q, doc)

    def _paging(self, q: dict[str, list[str]], doc: str) -> tuple[int, int]:
        try:
            per_page = min(100, max(1, int(q.get("per_page", ["30"])[0])))
            page = max(1, int(q.get("page", ["1"])[0]))
        except ValueError:
            raise _Reply(422, {**_error(422, "Invalid request.", doc), "errors": []}) from None
        return per_page, page

    def _list(self, number: int, q: dict[str, list[str]], doc: str) -> tuple[int, Any, dict]:
        s = self.standin
        self._caller(doc)
        self._pull(number, doc)
        per_page, page = self._paging(q, doc)
        with s._lock:
            comments = list(s.comments.get(number, []))
        base = f"{s.url}/repositories/{s.repo_id}/issues/{number}/comments"
        return self._page(comments, per_page, page, base)

    def _page(self, items: list[Any], per_page: int, page: int, base: str) -> tuple[int, Any, dict]:
        """One page of ``items`` with GitHub's ``Link`` header (absolute URLs from ``base``)."""
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def page_url(n: int) -> str:
            return f"{base}?per_page={per_page}&page={n}"

        links = []
        if page > 1:
            links.append(f'<{page_url(page - 1)}>; rel="prev"')
        if page < last:
            links.append(f'<{page_url(page + 1)}>; rel="next"')
            links.append(f'<{page_url(last)}>; rel="last"')
        if page > 1:
            links.append(f'<{page_url(1)}>; rel="first"')
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, chunk, headers

    def create_comment(
        self, m: re.Match[str], q: Any, raw: bytes, doc: str
    ) -> tuple[int, Any, dict]:
        s = self.standin
        template = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
        self._check_repo(m.group(1), m.group(2))
        token = self._caller(doc, write=True)
        assert token is not None
        number = int(m.group(3))
        self._pull(number, doc)
        data = self._json_body(raw, "POST", template, doc)
        self._too_long(data["body"], doc)
        with s._lock:
            comment = s._create_comment(number, data["body"], token.user)
        return 201, comment, {"Location": comment["url"]}

    def edit_comment(self, m: re.Match[str], q: Any, raw: bytes, doc: str) -> tuple[int, Any, dict]:
        s = self.standin
        template = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
        self._check_repo(m.group(1), m.group(2))
        self._caller(doc, write=True)
        data = self._json_body(raw, "PATCH", template, doc)
        self._too_long(data["body"], doc)
        with s._lock:
            found = s._find_comment(int(m.group(3)))
            if found is None:
                raise _Reply(404, _error(404, "Not Found", doc))
            comment = found[1]
            comment["body"] = data["body"]
            comment["updated_at"] = _iso(s._tick())
            return 200, dict(comment), {}

    def delete_comment(
        self, m: re.Match[str], q: Any, raw: bytes, doc: str
    ) -> tuple[int, Any, dict]:
        s = self.standin
        self._check_repo(m.group(1), m.group(2))
        self._caller(doc, write=True)
        with s._lock:
            found = s._find_comment(int(m.group(3)))
            if found is None:
                raise _Reply(404, _error(404, "Not Found", doc))
            s.comments[found[0]].remove(found[1])
        return 204, None, {}
