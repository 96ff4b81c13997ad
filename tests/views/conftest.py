from tests.domain.conftest import Programme, programme  # noqa: F401
