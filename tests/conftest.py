import pytest

from rules.engine import Engine
from rules.library import load_library


@pytest.fixture(scope="session")
def library():
    return load_library()


@pytest.fixture(scope="session")
def engine(library):
    return Engine(library.books)
