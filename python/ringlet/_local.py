"""ringlet._local: threading.local with one set of attributes per greenlet.

Request greenlets share their worker's thread, so under the standard
threading.local concurrent requests would read and overwrite each
other's attributes (SQLAlchemy's scoped_session keeps its session in
one). patch() puts `local` in its place: every greenlet (a request's,
the loop's, each pool thread's own) has its own attributes, made on its
first access, where a subclass's __init__ runs again with the arguments
the object was created with, as threading.local does for each thread.

A greenlet of the worker's pool serves one request after another, like
a thread of a thread pool: what a request leaves in a local is there for
the next on that greenlet, so per-request state is the application's to
reset (Flask and Django keep theirs in contextvars, which are per
greenlet already).
"""

from weakref import WeakKeyDictionary

from greenlet import getcurrent

__all__ = ["local"]

_MISSING = object()
_get = object.__getattribute__
_set = object.__setattr__


def _class_attr(cls, name):
    """What attribute lookup finds for `name` on the class, or _MISSING."""
    for klass in cls.__mro__:
        value = klass.__dict__.get(name, _MISSING)
        if value is not _MISSING:
            return value
    return _MISSING


def _attrs(self):
    """The calling greenlet's attributes of `self`, made (and __init__ run
    on them) on its first access."""
    per_greenlet, args, kwargs = _get(self, "_rg_state")
    me = getcurrent()
    attrs = per_greenlet.get(me)
    if attrs is None:
        attrs = per_greenlet[me] = {}
        init = type(self).__init__
        if init is not object.__init__:
            init(self, *args, **kwargs)
    return attrs


class local:
    """An object whose attributes are the calling greenlet's own."""

    __slots__ = ("_rg_state", "__weakref__")

    def __new__(cls, *args, **kwargs):
        if (args or kwargs) and cls.__init__ is object.__init__:
            raise TypeError("Initialization arguments are not supported")
        self = object.__new__(cls)
        _set(self, "_rg_state", (WeakKeyDictionary(), args, kwargs))
        # The creating greenlet's attributes: its __init__ is the call
        # that is making the object.
        _get(self, "_rg_state")[0][getcurrent()] = {}
        return self

    def __getattribute__(self, name):
        attrs = _attrs(self)
        if name == "__dict__":
            return attrs
        cls = type(self)
        found = _class_attr(cls, name)
        kind = type(found)
        # Data descriptors (properties, __class__) first, then the
        # greenlet's attributes, then methods and class attributes.
        if found is not _MISSING and (hasattr(kind, "__set__") or
                                      hasattr(kind, "__delete__")):
            return kind.__get__(found, self, cls)
        value = attrs.get(name, _MISSING)
        if value is not _MISSING:
            return value
        if found is not _MISSING:
            get = getattr(kind, "__get__", None)
            return found if get is None else get(found, self, cls)
        fallback = _class_attr(cls, "__getattr__")
        if fallback is not _MISSING:
            return fallback(self, name)
        raise AttributeError(f"{cls.__name__!r} object has no attribute "
                             f"{name!r}", name=name, obj=self)

    def __setattr__(self, name, value):
        if name == "__dict__":
            raise AttributeError(f"{type(self).__name__!r} object attribute "
                                 "'__dict__' is read-only")
        attrs = _attrs(self)
        found = _class_attr(type(self), name)
        if found is not _MISSING and hasattr(type(found), "__set__"):
            type(found).__set__(found, self, value)
        else:
            attrs[name] = value

    def __delattr__(self, name):
        attrs = _attrs(self)
        found = _class_attr(type(self), name)
        if found is not _MISSING and hasattr(type(found), "__delete__"):
            type(found).__delete__(found, self)
        elif attrs.pop(name, _MISSING) is _MISSING:
            raise AttributeError(f"{type(self).__name__!r} object has no "
                                 f"attribute {name!r}", name=name, obj=self)
