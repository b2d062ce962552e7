"""Server-side authorization of the direct-selling business methods.

In Odoo 18 every model method whose name does not start with ``_`` can be called over
JSON-RPC (``/web/dataset/call_kw``) by any logged-in user, portal users included, whatever the
views show. Methods that change data or reveal company-wide figures therefore check the group
that owns them first, and refuse with an AccessError before anything is read or written.
Superuser environments (crons, ``sudo()`` in controllers that did their own checks) pass.
"""

from odoo.exceptions import AccessError

DS_USER = "crm_direct_selling.group_ds_user"
DS_MANAGER = "crm_direct_selling.group_ds_manager"


def ds_has_group(env, group):
    return env.su or env.user.has_group(group)


def ds_check_group(env, group, what, records=None, operation="read"):
    """Raise AccessError naming ``what`` (e.g. "compute bonus runs") unless the current
    user belongs to ``group`` (one of DS_USER, DS_MANAGER) or the environment is sudo;
    then check ``operation`` access (ACL and record rules, e.g. another company's
    records) on ``records`` when given."""
    if ds_has_group(env, group):
        if records is not None:
            records.check_access(operation)
        return
    role = (
        env._("Direct Selling / Manager")
        if group == DS_MANAGER
        else env._("Direct Selling / User")
    )
    raise AccessError(
        env._(
            "Only members of the group %(group)s can %(what)s (user %(user)s).",
            group=role,
            what=what,
            user=env.user.name,
        )
    )


def ds_check_user(env, what, records=None, operation="read"):
    ds_check_group(env, DS_USER, what, records, operation)


def ds_check_manager(env, what, records=None, operation="write"):
    ds_check_group(env, DS_MANAGER, what, records, operation)
