"""The test suite: one test file per module; shared helpers in server.py and conftest.py."""
