# ruff: noqa: I001
from . import stats
from . import sqlparts
