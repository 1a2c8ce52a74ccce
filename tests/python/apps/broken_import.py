"""An application module that fails to import (tests/python/test_ops.py)."""
raise ImportError("this module is broken on purpose")
