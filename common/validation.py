"""Input validation in views: a serializer's check, raised as DRF's 400."""


def validated(serializer_class, data, **kwargs) -> dict:
    """Validate `data` with `serializer_class`, raising DRF's 400 on errors."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
