"""drf-spectacular hooks: what every operation's schema gets without declaring it (paths as API.md
writes them, 415s, typed 400 bodies, descriptions of responses and shared parameters)."""
from common.openapi import PARAMETER_MEANINGS, STATUS_EXTENSION, STATUS_MEANINGS


def paths_without_trailing_slash(result, generator, request, public):
    """Document each path as API.md writes it, without the trailing slash (both forms work:
    the router matches `/?`)."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result["paths"].items()}
    return result


def unsupported_media_type(result, generator, request, public):
    """Every operation with a request body also answers 415 to a body of another media type."""
    detail = {"$ref": "#/components/schemas/Detail"}  # the shared error body, one model in a generated client
    for item in result["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault(
                    "415", {"description": "The body is not of a media type this operation accepts.", "content": {"application/json": {"schema": detail}}}
                )
    return result


# --- Error bodies and response descriptions ----------------------------------------------------
_MESSAGES = {"type": "array", "items": {"type": "string"}}
_NESTED_MESSAGES = {
    "anyOf": [_MESSAGES, {"type": "object", "additionalProperties": {}, "description": "Messages by item index or key."}]
}


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_"))


def _is_nested(field: dict) -> bool:
    """A list or object field, or a nested serializer (a `$ref`, or `allOf` around one): its
    errors may come keyed by item or by inner field."""
    return field.get("type") in ("array", "object") or "$ref" in field or "allOf" in field


def _validation_error_schema(fields: dict[str, dict], what: str) -> dict:
    """DRF's validation body for these input fields: every key optional, each a list of
    messages (a nested object for list and object fields, keyed by index or key)."""
    properties = {
        name: {
            **(_NESTED_MESSAGES if _is_nested(field) else _MESSAGES),
            "description": f"What is wrong with `{name}`.",
        }
        for name, field in fields.items()
    }
    properties["non_field_errors"] = {**_MESSAGES, "description": "What is wrong with the input as a whole."}
    properties["detail"] = {
        "anyOf": [{"type": "string"}, _MESSAGES],
        "description": "Set instead of field messages when the body could not be read at all (not valid JSON).",
    }
    return {"type": "object", "description": f"Why {what} was refused: messages by field.", "properties": properties}


def _resolve(result: dict, schema: dict) -> dict:
    ref = schema.get("$ref", "")
    return result["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def typed_validation_errors(result, generator, request, public):
    """Every 400 body typed by the input it rejects: a component `<Input>Error` with the request
    body's fields (or the query parameters') as optional lists of messages, so a generated client
    and ReDoc show which keys an error can carry. New operations get theirs from their request
    serializer or parameters; nothing to declare."""
    components = result["components"]["schemas"]
    for item in result["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "400" not in operation.get("responses", {}):
                continue
            body = next(iter(operation.get("requestBody", {}).get("content", {}).values()), None)
            if body:
                ref = body.get("schema", {}).get("$ref", "")
                base = ref.rsplit("/", 1)[-1].removesuffix("Request").removeprefix("Patched") if ref else _pascal(operation["operationId"])
                fields = _resolve(result, body.get("schema", {})).get("properties", {})
                what = "the request body"
            else:
                base = _pascal(operation["operationId"])
                fields = {p["name"]: p.get("schema", {}) for p in operation.get("parameters", []) if p.get("in") == "query"}
                what = "the query"
                if not fields:  # nothing to validate: no 400 to document
                    del operation["responses"]["400"]
                    continue
            name = f"{base}Error"
            components.setdefault(name, _validation_error_schema(fields, what))
            response = operation["responses"]["400"]
            response["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
    result["components"]["schemas"] = dict(sorted(components.items()))
    return result


# --- Operation documentation -------------------------------------------------------------------
def status_descriptions(result, generator, request, public):
    """Every response described: the operation's own words for a status (`documented(...,
    statuses=)`), else what the status means across the API (STATUS_MEANINGS)."""
    for item in result["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            own = operation.pop(STATUS_EXTENSION, {})
            for code, response in operation.get("responses", {}).items():
                if code in own:
                    response["description"] = own[code]
                elif not response.get("description"):
                    response["description"] = STATUS_MEANINGS.get(code, "")
    return result


def parameter_descriptions(result, generator, request, public):
    """Every shared parameter described (PARAMETER_MEANINGS) where the operation did not."""
    for item in result["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if not parameter.get("description") and parameter["name"] in PARAMETER_MEANINGS:
                    parameter["description"] = PARAMETER_MEANINGS[parameter["name"]]
    return result
