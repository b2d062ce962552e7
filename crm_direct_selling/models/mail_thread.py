"""Notes logged in bulk while a batch job runs (the autoship job, issue 15).

Inside ``with_context(ds_message_buffer=DsMessageBuffer())`` a plain note posted on one
record (no recipients, no attachments, subtype Note: the "transaction sent / received",
"created from", "invoice paid" lines Odoo writes on every order, picking and invoice) is not
created at once but collected; ``DsMessageBuffer.flush`` creates all of them with
``_message_log_batch`` (one create per model and author instead of one ``message_post`` each).
The messages are the same records with the same bodies and authors; they notify nobody, as
the same notes posted one by one would not (a note has no recipients). Anything else (a
comment, recipients, attachments, another subtype) is posted as usual.
"""

from markupsafe import Markup

from odoo import api, models

_DEFERRABLE = {"body", "author_id", "message_type", "subtype_xmlid", "subtype_id"}


class DsMessageBuffer:
    """Collects deferred notes; hashable by identity (it sits in a context)."""

    __slots__ = ("entries",)

    def __init__(self):
        self.entries = []  # (model, res_id, author_id, message_type, body)

    def add(self, record, author_id, message_type, body):
        self.entries.append((record._name, record.id, author_id, message_type, body))

    def flush(self, env):
        """Create the collected notes: one ``_message_log_batch`` per model, author, type
        and round (a record's second note goes in the second round, so each record's notes
        keep their order)."""
        entries, self.entries = self.entries, []
        seen = {}  # (model, res_id) -> notes so far
        rounds = {}  # (round, model, author, type) -> {res_id: body}
        for model, res_id, author_id, message_type, body in entries:
            n = seen.get((model, res_id), 0)
            seen[(model, res_id)] = n + 1
            rounds.setdefault((n, model, author_id, message_type), {})[res_id] = body
        for (_n, model, author_id, message_type), bodies in sorted(
            rounds.items(), key=lambda item: item[0][0]
        ):
            env[model].browse(list(bodies))._message_log_batch(
                bodies=bodies, author_id=author_id, message_type=message_type
            )
        return len(entries)


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, **kwargs):
        buffer = self.env.context.get("ds_message_buffer")
        if (
            isinstance(buffer, DsMessageBuffer)
            and len(self) == 1
            and isinstance(self.id, int)
            and set(kwargs) <= _DEFERRABLE
            and kwargs.get("message_type", "notification")
            in ("notification", "comment")
            and self._ds_is_note(kwargs)
        ):
            body = kwargs.get("body") or ""
            buffer.add(
                self,
                kwargs.get("author_id"),
                kwargs.get("message_type", "notification"),
                body if isinstance(body, Markup) else str(body),
            )
            return self.env["mail.message"]
        return super().message_post(**kwargs)

    def _ds_is_note(self, kwargs):
        note = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        if kwargs.get("subtype_xmlid"):
            return kwargs["subtype_xmlid"] == "mail.mt_note"
        return not kwargs.get("subtype_id") or kwargs["subtype_id"] == note
