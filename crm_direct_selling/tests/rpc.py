"""What the web client sends, for tests that come in through the users' door: a button
pressed (``/web/dataset/call_button`` with the ids the client sends) and a JSON-RPC
``call_kw``, as a given user over real HTTP. Both return the decoded JSON-RPC answer
(``result`` or ``error``)."""

import json

# The web client waits for an answer as long as the server works (Odoo's test client
# gives up after 12 s): a button that trains a model inline on a loaded CI machine may
# take longer without being wrong.
TIMEOUT = 120


def _post(case, login, url, model, method, args, kwargs):
    if login:
        case.authenticate(login, login)
    return case.url_open(
        url,
        data=json.dumps(
            {
                "jsonrpc": "2.0",
                "params": {
                    "model": model,
                    "method": method,
                    "args": args,
                    "kwargs": kwargs or {},
                },
            }
        ),
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    ).json()


def call_button(case, login, model, method, ids, kwargs=None):
    """Press ``method`` on the records ``ids`` (a list, empty for a list header button)
    as the user ``login`` (whose password is their login), as the web client does."""
    return _post(case, login, "/web/dataset/call_button", model, method, [ids], kwargs)


def call_kw(case, login, model, method, args, kwargs=None):
    """A JSON-RPC call of ``model.method(*args, **kwargs)`` as the user ``login``."""
    return _post(
        case,
        login,
        f"/web/dataset/call_kw/{model}/{method}",
        model,
        method,
        args,
        kwargs,
    )
