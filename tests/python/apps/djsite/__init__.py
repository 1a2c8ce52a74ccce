"""djsite: the Django project of tests/python/test_frameworks.py."""
