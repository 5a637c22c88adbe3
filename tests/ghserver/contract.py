"""GitHub's REST contract for the endpoints the stand-in serves, from GitHub's OpenAPI description.

The description is GitHub's own (npm package ``@octokit/openapi``, file
``generated/api.github.com.json``). At test time the contract comes from, in order:

1. ``$PERFGATE_GITHUB_OPENAPI`` (a path to ``api.github.com.json``), or
2. ``tests/ghserver/.openapi/api.github.com.json``, put there (git-ignored) by
   ``scripts/install_github_openapi.sh``, or
3. the vendored ``openapi_fragment.json`` next to this file: only the operations and schemas used
   here, extracted from the pinned package version by ``python tests/ghserver/contract.py
   --write-fragment`` (its ``x-source`` says which version).

Every response the stand-in sends and every request body it receives is validated against this
contract, so the stand-in cannot quietly drift from the real API. OpenAPI 3.0 schemas are
turned into JSON Schema (``nullable: true`` becomes a ``null`` alternative) and checked with
``jsonschema`` (Draft 4, the dialect OpenAPI 3.0 is based on).

Self-contained (standard library + jsonschema) so it also runs as a script.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/openapi"
PINNED_VERSION = "23.0.2"  # keep in step with scripts/install_github_openapi.sh
HERE = Path(__file__).resolve().parent
FRAGMENT = HERE / "openapi_fragment.json"
INSTALLED = HERE / ".openapi" / "api.github.com.json"

# (method, path template) of every operation the stand-in implements.
OPERATIONS: list[tuple[str, str]] = [
    ("get", "/user"),
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("delete", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
]
# Error statuses an operation does not document (injected 5xx, 429, 403 on PATCH...) still
# carry GitHub's error shape.
ERROR_SCHEMA = "#/components/schemas/basic-error"
EXTRA_SCHEMAS = ["basic-error", "validation-error"]


def description_path() -> Path | None:
    """The full description to validate against, if one is installed."""
    env = os.environ.get("PERFGATE_GITHUB_OPENAPI")
    if env:
        return Path(env)
    return INSTALLED if INSTALLED.is_file() else None


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _json_schema_of(doc: dict[str, Any], response_or_body: dict[str, Any]) -> Any:
    """The application/json schema of a response or request body (following a $ref)."""
    if "$ref" in response_or_body:
        response_or_body = _resolve(doc, response_or_body["$ref"])
    content = response_or_body.get("content") or {}
    media = content.get("application/json") or {}
    return media.get("schema")


def _collect_refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            out.add(ref)
        for value in node.values():
            _collect_refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, out)


def extract(description: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """Only what the stand-in needs: its operations' schemas and the schemas they reference."""
    paths: dict[str, Any] = {}
    for method, template in OPERATIONS:
        op = description["paths"][template][method]
        entry: dict[str, Any] = {"responses": {}}
        for status, response in op["responses"].items():
            entry["responses"][status] = {"schema": _json_schema_of(description, response)}
        if "requestBody" in op:
            entry["requestBody"] = _json_schema_of(description, op["requestBody"])
        paths.setdefault(template, {})[method] = entry

    schemas: dict[str, Any] = {}
    pending = {f"#/components/schemas/{name}" for name in EXTRA_SCHEMAS}
    _collect_refs(paths, pending)
    while pending:
        ref = pending.pop()
        name = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/components/schemas/") or name in schemas:
            continue
        schemas[name] = _resolve(description, ref)
        _collect_refs(schemas[name], pending)
    return {
        "x-source": source,
        "openapi": description.get("openapi"),
        "info": {"version": description.get("info", {}).get("version")},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable: true`` becomes an explicit ``null`` alternative."""
    if isinstance(node, list):
        return [to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        if "type" in out and "$ref" not in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


class Contract:
    """Validates bodies against the extracted description; ``source`` says where it came from."""

    def __init__(self, fragment: dict[str, Any], origin: str) -> None:
        self.fragment = fragment
        self.origin = origin
        self.source = fragment.get("x-source", {})
        self._components = to_json_schema(fragment["components"])
        self._validators: dict[str, Any] = {}

    def _validator(self, schema: Any) -> Any:
        import jsonschema

        cache_key = json.dumps(schema, sort_keys=True)
        if cache_key not in self._validators:
            root = {"components": self._components, **to_json_schema(schema)}
            cls = jsonschema.Draft4Validator
            self._validators[cache_key] = cls(root, format_checker=cls.FORMAT_CHECKER)
        return self._validators[cache_key]

    def _errors(self, schema: Any, body: Any) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}"
            for e in self._validator(schema).iter_errors(body)
        ]

    def response_schema(self, method: str, template: str, status: int) -> Any:
        """The documented schema, the error schema for undocumented errors, or None (no body)."""
        op = self.fragment["paths"][template][method.lower()]
        documented = op["responses"].get(str(status))
        if documented is not None:
            return documented["schema"]
        if status >= 400:
            return {"$ref": ERROR_SCHEMA}
        raise KeyError(f"{method.upper()} {template} does not document status {status}")

    def check_response(self, method: str, template: str, status: int, body: Any) -> list[str]:
        """Violations of the contract by one response (empty list: it conforms)."""
        try:
            schema = self.response_schema(method, template, status)
        except KeyError as exc:
            return [str(exc)]
        if schema is None:
            return [] if body is None else [f"status {status} documents no body"]
        if body is None:
            return [f"status {status} needs a JSON body"]
        return self._errors(schema, body)

    def check_request(self, method: str, template: str, body: Any) -> list[str]:
        """Violations of the documented request body (empty list: it conforms)."""
        schema = self.fragment["paths"][template][method.lower()].get("requestBody")
        return self._errors(schema, body) if schema is not None else []


def _fragment_from(path: Path) -> dict[str, Any]:
    description = json.loads(path.read_text(encoding="utf-8"))
    version = PINNED_VERSION
    package_json = path.with_name("package.json")
    if package_json.is_file():
        version = json.loads(package_json.read_text(encoding="utf-8")).get("version", version)
    source = {
        "package": PACKAGE,
        "version": version,
        "file": "generated/api.github.com.json",
    }
    return extract(description, source)


@functools.lru_cache(maxsize=1)
def load_contract() -> Contract:
    """The contract from the installed description if there is one, else the vendored fragment."""
    path = description_path()
    if path is not None:
        return Contract(_fragment_from(path), f"installed description {path}")
    fragment = json.loads(FRAGMENT.read_text(encoding="utf-8"))
    return Contract(fragment, f"vendored fragment {FRAGMENT.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--write-fragment",
        action="store_true",
        help=f"extract from the installed description into {FRAGMENT.name}",
    )
    args = parser.parse_args(argv)
    path = description_path()
    if path is None:
        print("no installed description: run scripts/install_github_openapi.sh", file=sys.stderr)
        return 1
    fragment = _fragment_from(path)
    if args.write_fragment:
        FRAGMENT.write_text(json.dumps(fragment, indent=1, sort_keys=True) + "\n", "utf-8")
        print(f"wrote {FRAGMENT} ({len(fragment['components']['schemas'])} schemas)")
    else:
        print(json.dumps(fragment["x-source"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
