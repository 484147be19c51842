"""OpenAPI 3.0 checks that follow discriminator mappings (plain validators ignore them).

LINE's specs model every polymorphic object (messages, actions, Flex components, events) as a
base schema with a `discriminator` mapping `type` to a subtype that extends the base with allOf.
A validator that ignores the mapping only checks the base, so `{"type": "text"}` passes as a
message. Here each value is checked against its base *and* the subtype its `type` names; an
unknown `type` is an error, and so (in strict mode) is a property no applicable schema declares.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SPECS_DIR = Path(__file__).resolve().parent / "data" / "specs"  # vendored: see its README.md
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
Schema = dict[str, Any]


class OpenApi:
    """One OpenAPI document: request schemas by operation, and discriminator-aware checks."""

    def __init__(self, document: dict[str, Any]) -> None:
        """Keep the document and its component schemas."""
        self.document = document
        self.schemas: dict[str, Schema] = document.get("components", {}).get("schemas", {})

    def request_schema(self, method: str, path: str) -> Schema | None:
        """The JSON request body schema of the operation serving this concrete path."""
        for template, operations in self.document.get("paths", {}).items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path) and method.lower() in operations:
                body = operations[method.lower()].get("requestBody", {})
                return body.get("content", {}).get("application/json", {}).get("schema")
        return None

    def errors(self, value: Any, schema: Schema | str, *, strict: bool = True) -> list[str]:
        """Every violation of the schema (a component name or a schema), as 'path: problem'."""
        if isinstance(schema, str):
            schema = {"$ref": f"#/components/schemas/{schema}"}
        found: list[str] = []
        self._check(value, schema, "$", found, strict)
        return found

    def _check(
        self, value: Any, schema: Schema, where: str, found: list[str], strict: bool
    ) -> None:
        applicable = self._flatten(schema, value, set(), found, where)
        if value is None and any(s.get("nullable") for s in applicable):
            return
        for part in applicable:
            self._local(value, part, where, found, strict)
        if strict and isinstance(value, dict):
            self._unknown_properties(value, applicable, where, found)

    def _flatten(
        self, schema: Schema, value: Any, seen: set[str], found: list[str], where: str
    ) -> list[Schema]:
        """The schemas that apply to one value: refs resolved, allOf expanded, subtype added."""
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:  # a subtype's allOf names its base again: applied already
                return []
            seen.add(name)
            schema = self.schemas[name]
        applicable = [schema]
        for part in schema.get("allOf", ()):
            applicable += self._flatten(part, value, seen, found, where)
        discriminator = schema.get("discriminator")
        if discriminator and isinstance(value, dict):
            prop = discriminator["propertyName"]
            mapping = discriminator.get("mapping", {})
            if prop in value and value[prop] not in mapping:
                found.append(f"{where}: unknown {prop} {value[prop]!r}")
            elif prop in value:
                applicable += self._flatten(
                    {"$ref": mapping[value[prop]]}, value, seen, found, where
                )
        return applicable

    def _local(
        self, value: Any, schema: Schema, where: str, found: list[str], strict: bool
    ) -> None:
        """Check the keywords of one schema (not allOf or discriminator, handled by _flatten)."""
        kind = schema.get("type")
        if kind and not _is_type(value, kind):
            found.append(f"{where}: expected {kind}, got {type(value).__name__}")
            return
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{where}: {value!r} not one of {schema['enum']}")
        if isinstance(value, str):
            _check_string(value, schema, where, found)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            _check_number(value, schema, where, found)
        elif isinstance(value, list):
            self._check_array(value, schema, where, found, strict)
        elif isinstance(value, dict):
            self._check_object(value, schema, where, found, strict)
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                matches = sum(not self.errors(value, s, strict=strict) for s in schema[keyword])
                if matches == 0 or (keyword == "oneOf" and matches > 1):
                    found.append(f"{where}: {matches} of {keyword} match")

    def _check_array(
        self, value: list[Any], schema: Schema, where: str, found: list[str], strict: bool
    ) -> None:
        if len(value) < schema.get("minItems", 0):
            found.append(f"{where}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{where}: more than {schema['maxItems']} items")
        if "items" in schema:
            for index, item in enumerate(value):
                self._check(item, schema["items"], f"{where}[{index}]", found, strict)

    def _check_object(
        self, value: dict[str, Any], schema: Schema, where: str, found: list[str], strict: bool
    ) -> None:
        for name in schema.get("required", ()):
            if name not in value:
                found.append(f"{where}: missing {name}")
        properties = schema.get("properties", {})
        for name, item in value.items():
            if name in properties:
                self._check(item, properties[name], f"{where}.{name}", found, strict)
            elif isinstance(schema.get("additionalProperties"), dict):
                self._check(item, schema["additionalProperties"], f"{where}.{name}", found, strict)

    def _unknown_properties(
        self, value: dict[str, Any], applicable: list[Schema], where: str, found: list[str]
    ) -> None:
        """Flag properties no applicable schema declares (a typo passes plain validation)."""
        if not any("properties" in s for s in applicable):
            return
        if any(s.get("additionalProperties") not in (None, False) for s in applicable):
            return
        declared = {name for s in applicable for name in s.get("properties", {})}
        for name in sorted(set(value) - declared):
            found.append(f"{where}: unknown property {name}")


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = {"string": str, "boolean": bool, "array": list, "object": dict}.get(kind)
    return expected is None or isinstance(value, expected)


def _check_string(value: str, schema: Schema, where: str, found: list[str]) -> None:
    if len(value) < schema.get("minLength", 0):
        found.append(f"{where}: shorter than {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        found.append(f"{where}: longer than {schema['maxLength']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{where}: does not match {schema['pattern']}")
    fmt = schema.get("format")
    if (fmt == "uuid" and not UUID.match(value)) or (fmt == "uri" and not URI.match(value)):
        found.append(f"{where}: not a {fmt}")


def _check_number(value: float, schema: Schema, where: str, found: list[str]) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        found.append(f"{where}: below {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        found.append(f"{where}: above {schema['maximum']}")


@cache
def load(name: str) -> OpenApi:
    """A spec from tests/data/specs/ (a missing file raises: the specs are part of the repo)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (SPECS_DIR / name).open(encoding="utf-8") as stream:
        return OpenApi(yaml.load(stream, Loader=loader))
