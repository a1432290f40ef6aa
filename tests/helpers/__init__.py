"""Helpers shared by tests in several folders (importable as ``helpers``: tests/conftest.py puts tests/ on the path)."""
