"""drf-spectacular hooks."""


def paths_without_trailing_slash(result, generator, request, public):
    """Document each path as API.md writes it, without the trailing slash (both forms work:
    the router matches `/?`)."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result["paths"].items()}
    return result


def unsupported_media_type(result, generator, request, public):
    """Every operation with a request body also answers 415 to a body of another media type."""
    detail = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
    for item in result["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault(
                    "415", {"description": "The body is not of a media type this operation accepts.", "content": {"application/json": {"schema": detail}}}
                )
    return result
