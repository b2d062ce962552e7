"""pytest plugin loaded by setup/test (``-p ds_pytest_plugin``).

Turns every skipped test (or skipped collection) into a failure unless the
environment variable ``DS_ALLOW_SKIP`` is set, so that e.g. a browser tour
skipped for lack of Chromium or websocket-client fails loudly.
"""

import os

import pytest

_HINT = "skipped tests are failures here (set DS_ALLOW_SKIP=1 to allow skips)"


# Odoo waits 10 s for Chromium to write its DevTools port and then *skips* the
# tour; on a loaded two-core CI machine a cold Chromium start took longer once
# (CI of 2026-12-03). The wait is a poll that returns as soon as the port is
# written, so a longer ceiling costs nothing when Chromium is quick.
BROWSER_START_SECONDS = 90


def _lengthen_browser_wait():
    """Called per test, once Odoo's test mode is on (importing odoo.tests
    earlier logs an error)."""
    from odoo.tests import common  # noqa: PLC0415 - odoo is importable only at run time

    common.CHECK_BROWSER_ITERATIONS = int(
        BROWSER_START_SECONDS / common.CHECK_BROWSER_SLEEP
    )
    common.BROWSER_WAIT = common.CHECK_BROWSER_SLEEP * common.CHECK_BROWSER_ITERATIONS


def _allow_skip():
    return os.environ.get("DS_ALLOW_SKIP", "") not in ("", "0")


def _reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _allow_skip() or not report.skipped or hasattr(report, "wasxfail"):
        return
    report.outcome = "failed"
    report.longrepr = f"{_reason(report)}\n[{_HINT}]"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if _allow_skip() or not report.skipped:
        return
    report.outcome = "failed"
    report.longrepr = f"{_reason(report)}\n[{_HINT}]"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Odoo 18 only knows it runs a test (no real SMTP, test-mode checks) through
    ``odoo.modules.module.current_test``, which its own runner sets and pytest-odoo
    sets only from 19.0 on: set it around every test (setup, call, teardown)."""
    from odoo.modules import module  # noqa: PLC0415 - odoo is importable only at run time

    module.current_test = getattr(item, "instance", None) or item
    _lengthen_browser_wait()
    try:
        yield
    finally:
        module.current_test = None
