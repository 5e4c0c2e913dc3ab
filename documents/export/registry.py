"""The export formats by name: `register` a Renderer subclass, `get` it by its `format=` value."""

from .base import Renderer


class UnknownFormat(LookupError):
    """No renderer is registered under that name; `valid` lists those that are."""

    def __init__(self, name, valid: list[str]):
        self.name = name
        self.valid = valid
        super().__init__(f"Unknown format {name!r}; expected one of: {', '.join(valid)}")


_renderers: dict[str, Renderer] = {}


def register(cls: type[Renderer]) -> type[Renderer]:
    """Class decorator: make a format available under `cls.name`."""
    if not cls.name or not cls.extension or not cls.content_type:
        raise TypeError(f"{cls.__name__} must set name, extension and content_type")
    if cls.name in _renderers:
        raise ValueError(f"an export format named {cls.name!r} is already registered")
    _renderers[cls.name] = cls()
    return cls


def get(name) -> Renderer:
    try:
        return _renderers[name]
    except (KeyError, TypeError):
        raise UnknownFormat(name, formats()) from None


def formats() -> list[str]:
    return sorted(_renderers)
