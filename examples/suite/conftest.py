import pytest


@pytest.fixture
def database():
    # A fixture that cannot set up: the tests using it end as errors, not failures.
    raise ConnectionError("database at db.internal:5432 refused the connection")


@pytest.fixture
def temp_account():
    yield {"id": 7}
    # A teardown that fails after the test passed: reported as an error.
    raise RuntimeError("could not delete temporary account 7")
