from tests.api.conftest import api, clock, sqlite_api

__all__ = ["api", "clock", "sqlite_api"]
