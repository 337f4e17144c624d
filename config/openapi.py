"""drf-spectacular hooks."""


def paths_without_trailing_slash(result, generator, request, public):
    """Document each path as API.md writes it, without the trailing slash (both forms work:
    the router matches `/?`)."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result["paths"].items()}
    return result
