"""Payout of a bonus run: vendor bills (one per earner, cloned in SQL from a template
bill), or one consolidated journal entry with its payable split per partner."""

from odoo import Command, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class DsBonusRunPayout(models.Model):
    _inherit = "ds.bonus.run"

    def _paid_rows(self):
        """(distributor_id, partner_id, bonus_type, amount) of the paid lines, grouped."""
        self.env["ds.bonus.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT l.distributor_id, d.partner_id, l.bonus_type, SUM(l.amount)
               FROM ds_bonus_line l JOIN ds_distributor d ON d.id = l.distributor_id
               WHERE l.run_id = %s AND NOT l.carried_forward
               GROUP BY l.distributor_id, d.partner_id, l.bonus_type
               HAVING SUM(l.amount) <> 0
               ORDER BY l.distributor_id, l.bonus_type""",
                self.id,
            )
        )
        return self.env.cr.fetchall()

    def _type_labels(self):
        return dict(
            self.env["ds.bonus.line"]
            ._fields["bonus_type"]
            ._description_selection(self.env)
        )

    def _link_lines(self, distributor_ids, move_ids):
        self.env.cr.execute(
            SQL(
                """UPDATE ds_bonus_line l SET move_id = m.move_id
               FROM unnest(%s::int[], %s::int[]) AS m(distributor_id, move_id)
               WHERE l.run_id = %s AND NOT l.carried_forward
                 AND l.distributor_id = m.distributor_id""",
                distributor_ids,
                move_ids,
                self.id,
            )
        )
        self.env["ds.bonus.line"].invalidate_model(["move_id"])

    def _create_bills(self):
        self.ensure_one()
        plan = self.plan_id
        labels = self._type_labels()
        vals_list, distributors = [], []
        current = None
        for did, partner_id, btype, amount in self._paid_rows():
            if did != current:
                current = did
                distributors.append(did)
                vals_list.append(
                    {
                        "move_type": "in_invoice",
                        "partner_id": partner_id,
                        "journal_id": plan.journal_id.id,
                        "company_id": self.company_id.id,
                        "currency_id": self.currency_id.id,
                        "invoice_date": self.date,
                        "date": self.date,
                        "ref": self.name,
                        "invoice_origin": self.name,
                        "invoice_line_ids": [],
                    }
                )
            vals_list[-1]["invoice_line_ids"].append(
                Command.create(
                    {
                        "name": f"{labels[btype]} - {self.name}",
                        "quantity": 1.0,
                        "price_unit": float(amount),
                        "account_id": plan.expense_account_id.id,
                        "tax_ids": [Command.clear()],
                    }
                )
            )
        if not vals_list:
            return self.env["account.move"]
        Move = self.env["account.move"].with_context(
            default_move_type="in_invoice", tracking_disable=True
        )
        threshold = plan.fast_post_threshold
        if (
            not threshold
            or len(vals_list) <= threshold
            or plan.journal_id.restrict_mode_hash_table
        ):
            moves = Move.create(vals_list)
            moves.action_post()
            self._link_lines(distributors, moves.ids)
            return moves
        # large runs: per supplier payment term of the earners, the first bill through the
        # ORM and the others cloned from it in SQL (same term, so same due date); a term that
        # splits the amount into installments or grants an early-payment discount computes
        # amounts per bill, so its bills all go through the ORM
        moves = self.env["account.move"]
        for term, indexes in self._payment_term_groups(distributors):
            group = [distributors[i] for i in indexes]
            if term and (len(term.line_ids) > 1 or term.early_discount):
                bills = Move.create([vals_list[i] for i in indexes])
                bills.action_post()
                self._link_lines(group, bills.ids)
                moves |= bills
                continue
            template = Move.create([vals_list[indexes[0]]])
            template.action_post()
            self._link_lines(group[:1], template.ids)
            moves |= template | self._clone_bills_sql(template, group[1:])
        return moves

    def _payment_term_groups(self, distributor_ids):
        """[(supplier payment term, [positions in ``distributor_ids``])], in order of first
        appearance: the term each earner's vendor bill gets (their commercial partner's, else
        the company default)."""
        company = self.company_id
        partners = self.env["res.partner"].with_company(company)
        default = partners._fields[
            "property_supplier_payment_term_id"
        ].get_company_dependent_fallback(partners)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT (cp.property_supplier_payment_term_id ->> %s)::int
                   FROM unnest(%s::int[]) WITH ORDINALITY AS x(did, n)
                   JOIN ds_distributor d ON d.id = x.did
                   JOIN res_partner p ON p.id = d.partner_id
                   JOIN res_partner cp ON cp.id = p.commercial_partner_id
                   ORDER BY x.n""",
                str(company.id),
                list(distributor_ids),
            )
        )
        groups = {}
        for i, (term_id,) in enumerate(self.env.cr.fetchall()):
            groups.setdefault(term_id or default.id or None, []).append(i)
        Term = self.env["account.payment.term"]
        return [(Term.browse(t) if t else Term, idx) for t, idx in groups.items()]

    def _clone_bills_sql(self, template, distributor_ids):
        """Create and post the bills of ``distributor_ids`` set-based in SQL, as copies of
        the posted ORM bill ``template`` (same journal, date, accounts, payment term and
        every other column) with the partner, name, lines and amounts of each earner:
        one bill per earner and one expense line per bonus type, plus the payable line on
        the partner's payable account. Names continue the journal's sequence."""
        self.ensure_one()
        if not distributor_ids:
            return self.env["account.move"]
        cr = self.env.cr
        self.env.flush_all()
        company = self.company_id
        labels = self._type_labels()
        # lock the journal's numbering while names are given
        cr.execute(
            SQL(
                "SELECT id FROM account_journal WHERE id = %s FOR UPDATE",
                template.journal_id.id,
            )
        )
        fmt, fvals = template._get_sequence_format_param(template.name)
        cr.execute(
            SQL(
                "SELECT COALESCE(MAX(sequence_number), 0) FROM account_move "
                "WHERE journal_id = %s AND sequence_prefix = %s",
                template.journal_id.id,
                template.sequence_prefix,
            )
        )
        last = cr.fetchone()[0]
        names = [
            fmt.format(**{**fvals, "seq": last + i})
            for i in range(1, len(distributor_ids) + 1)
        ]
        partner_model = self.env["res.partner"].with_company(company)
        fallback = partner_model._fields[
            "property_account_payable_id"
        ].get_company_dependent_fallback(partner_model)
        payable_default = (
            fallback.id
            or template.line_ids.filtered(lambda ln: ln.display_type == "payment_term")[
                :1
            ].account_id.id
        )
        cr.execute(SQL("DROP TABLE IF EXISTS ds_bt_bill, ds_bt_bill_line"))
        cr.execute(
            SQL(
                """CREATE TEMP TABLE ds_bt_bill ON COMMIT DROP AS
               SELECT b.distributor_id, b.name, b.seq,
                      nextval(pg_get_serial_sequence('account_move', 'id'))::int AS move_id,
                      d.partner_id, p.commercial_partner_id, p.name AS partner_name,
                      COALESCE((cp.property_account_payable_id ->> %(company)s)::int,
                               %(payable)s) AS payable_id,
                      (SELECT bk.id FROM res_partner_bank bk
                        WHERE bk.partner_id = p.commercial_partner_id AND bk.active
                        ORDER BY bk.sequence, bk.id LIMIT 1) AS bank_id,
                      tot.total
               FROM unnest(%(dids)s::int[], %(names)s::varchar[]) WITH ORDINALITY
                    AS b(distributor_id, name, seq)
               JOIN (SELECT l.distributor_id, SUM(l.amount) AS total FROM ds_bonus_line l
                     WHERE l.run_id = %(run)s AND NOT l.carried_forward
                     GROUP BY l.distributor_id) tot ON tot.distributor_id = b.distributor_id
               JOIN ds_distributor d ON d.id = b.distributor_id
               JOIN res_partner p ON p.id = d.partner_id
               JOIN res_partner cp ON cp.id = p.commercial_partner_id
               ORDER BY b.seq""",
                company=str(company.id),
                payable=payable_default,
                run=self.id,
                dids=list(distributor_ids),
                names=names,
            )
        )
        cr.execute(
            SQL(
                """CREATE TEMP TABLE ds_bt_bill_line ON COMMIT DROP AS
               SELECT b.move_id, b.commercial_partner_id, l.bonus_type, SUM(l.amount) AS amount,
                      ROW_NUMBER() OVER (PARTITION BY b.move_id ORDER BY l.bonus_type) AS seq
               FROM ds_bt_bill b
               JOIN ds_bonus_line l ON l.run_id = %s AND l.distributor_id = b.distributor_id
                    AND NOT l.carried_forward
               GROUP BY b.move_id, b.commercial_partner_id, l.bonus_type
               HAVING SUM(l.amount) <> 0""",
                self.id,
            )
        )
        cr.execute(
            SQL(
                """UPDATE ds_bt_bill_line t SET bonus_type = v.label
               FROM unnest(%s::varchar[], %s::varchar[]) AS v(code, label)
               WHERE t.bonus_type = v.code""",
                list(labels),
                [f"{labels[c]} - {self.name}" for c in labels],
            )
        )

        columns, clone = self._sql_columns, self._sql_clone

        now = SQL("NOW() AT TIME ZONE 'UTC'")
        move_over = {
            "name": SQL("b.name"),
            "sequence_number": SQL("%s + b.seq", last),
            "partner_id": SQL("b.partner_id"),
            "commercial_partner_id": SQL("b.commercial_partner_id"),
            "invoice_partner_display_name": SQL("b.partner_name"),
            "partner_bank_id": SQL("b.bank_id"),
            "create_date": now,
            "write_date": now,
        }
        for col in columns("account_move"):
            if col.startswith("amount_"):
                if col.startswith("amount_tax"):
                    move_over[col] = SQL("0.0")
                elif col.endswith("_signed"):
                    move_over[col] = SQL("-b.total")
                else:
                    move_over[col] = SQL("b.total")
        cr.execute(
            SQL(
                "%s FROM ds_bt_bill b CROSS JOIN account_move t WHERE t.id = %s ORDER BY b.seq",
                clone("account_move", move_over, SQL("b.move_id")),
                template.id,
            )
        )
        tpl_product = template.line_ids.filtered(
            lambda ln: ln.display_type == "product"
        )[:1]
        tpl_payable = template.line_ids.filtered(
            lambda ln: ln.display_type == "payment_term"
        )[:1]
        amount = SQL("bl.amount")
        product_over = {
            "move_id": SQL("bl.move_id"),
            "partner_id": SQL("bl.commercial_partner_id"),
            "move_name": SQL("b.name"),
            "name": SQL("bl.bonus_type"),
            "sequence": SQL("9 + bl.seq"),
            "quantity": SQL("1.0"),
            "debit": SQL("GREATEST(%s, 0)", amount),
            "credit": SQL("GREATEST(-%s, 0)", amount),
            "balance": amount,
            "amount_currency": amount,
            "price_unit": amount,
            "price_subtotal": amount,
            "price_total": amount,
            "amount_residual": SQL("0.0"),
            "amount_residual_currency": SQL("0.0"),
            "create_date": now,
            "write_date": now,
        }
        cr.execute(
            SQL(
                """%s FROM ds_bt_bill_line bl JOIN ds_bt_bill b ON b.move_id = bl.move_id
               CROSS JOIN account_move_line t WHERE t.id = %s ORDER BY bl.move_id, bl.seq""",
                clone(
                    "account_move_line",
                    product_over,
                    SQL("nextval(pg_get_serial_sequence('account_move_line', 'id'))"),
                ),
                tpl_product.id,
            )
        )
        total = SQL("b.total")
        payable_over = {
            "move_id": SQL("b.move_id"),
            "partner_id": SQL("b.commercial_partner_id"),
            "move_name": SQL("b.name"),
            "account_id": SQL("b.payable_id"),
            "debit": SQL("0.0"),
            "credit": total,
            "balance": SQL("-%s", total),
            "amount_currency": SQL("-%s", total),
            "amount_residual": SQL("-%s", total),
            "amount_residual_currency": SQL("-%s", total),
            "price_unit": SQL("-%s", total),
            "price_subtotal": SQL("-%s", total),
            "price_total": SQL("-%s", total),
            "create_date": now,
            "write_date": now,
        }
        cr.execute(
            SQL(
                "%s FROM ds_bt_bill b CROSS JOIN account_move_line t WHERE t.id = %s ORDER BY b.seq",
                clone(
                    "account_move_line",
                    payable_over,
                    SQL("nextval(pg_get_serial_sequence('account_move_line', 'id'))"),
                ),
                tpl_payable.id,
            )
        )
        # followers as on the template: posting subscribed its vendor, so each clone is
        # followed by its own earner (the portal rule on bills reads message_partner_ids:
        # without it a distributor cannot open their bill), with the same subtypes
        self.env["mail.followers"].flush_model()
        cr.execute(
            SQL(
                """WITH src AS (
                   SELECT f.id AS follower_id, b.move_id,
                          CASE WHEN f.partner_id = %(vendor)s THEN b.partner_id
                               ELSE f.partner_id END AS partner_id
                     FROM ds_bt_bill b
               CROSS JOIN mail_followers f
                    WHERE f.res_model = 'account.move' AND f.res_id = %(template)s
                      AND f.partner_id IS NOT NULL
               ), ins AS (
                   INSERT INTO mail_followers (res_model, res_id, partner_id)
                   SELECT DISTINCT 'account.move', src.move_id, src.partner_id FROM src
                   ON CONFLICT DO NOTHING
                   RETURNING id, res_id, partner_id
               )
               INSERT INTO mail_followers_mail_message_subtype_rel
                      (mail_followers_id, mail_message_subtype_id)
               SELECT DISTINCT ins.id, r.mail_message_subtype_id
                 FROM ins
                 JOIN src ON src.move_id = ins.res_id AND src.partner_id = ins.partner_id
                 JOIN mail_followers_mail_message_subtype_rel r
                   ON r.mail_followers_id = src.follower_id
               ON CONFLICT DO NOTHING""",
                vendor=template.partner_id.id,
                template=template.id,
            )
        )
        cr.execute(
            SQL(
                """UPDATE ds_bonus_line l SET move_id = b.move_id FROM ds_bt_bill b
               WHERE l.run_id = %s AND NOT l.carried_forward AND l.distributor_id = b.distributor_id""",
                self.id,
            )
        )
        cr.execute(SQL("SELECT move_id FROM ds_bt_bill ORDER BY seq"))
        move_ids = [r[0] for r in cr.fetchall()]
        cr.execute(SQL("DROP TABLE IF EXISTS ds_bt_bill, ds_bt_bill_line"))
        self.env.invalidate_all()
        # Odoo keeps the journal's last number for the rest of the transaction: the next bill
        # posted through the ORM must read it again, past the numbers given here
        self.env["account.move"]._get_sequence_cache().clear()
        return self.env["account.move"].browse(move_ids)

    def _sql_columns(self, table):
        """Stored columns of ``table`` but ``id``, in table order."""
        self.env.cr.execute(
            SQL(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                table,
            )
        )
        return [r[0] for r in self.env.cr.fetchall() if r[0] != "id"]

    def _sql_clone(self, table, overrides, source):
        """``INSERT INTO table (id, cols) SELECT <source>, <t.col or override>`` prefix:
        copies the row aliased ``t`` with the columns of ``overrides`` replaced."""
        cols = self._sql_columns(table)
        exprs = [overrides.get(c, SQL("t.%s", SQL.identifier(c))) for c in cols]
        return SQL(
            "INSERT INTO %s (id, %s) SELECT %s",
            SQL.identifier(table),
            SQL(", ").join(SQL.identifier(c) for c in cols),
            SQL(", ").join([source] + exprs),
        )

    def _create_entry(self):
        self.ensure_one()
        plan = self.plan_id
        payable = plan._get_payable_account()
        if not payable:
            raise UserError(
                self.env._("Set the payable account of plan %s.", plan.name)
            )
        labels = self._type_labels()
        per_type, per_partner, distributors = {}, {}, []
        for did, partner_id, btype, amount in self._paid_rows():
            per_type[btype] = per_type.get(btype, 0.0) + float(amount)
            if (did, partner_id) not in per_partner:
                distributors.append(did)
            per_partner[(did, partner_id)] = per_partner.get(
                (did, partner_id), 0.0
            ) + float(amount)
        if not per_partner:
            return self.env["account.move"]
        cur = self.currency_id
        line_vals = [
            Command.create(
                {
                    "name": f"{labels[btype]} - {self.name}",
                    "account_id": plan.expense_account_id.id,
                    "balance": cur.round(amount),
                }
            )
            for btype, amount in sorted(per_type.items())
            if amount
        ]
        threshold = plan.fast_post_threshold
        fast = bool(threshold) and len(per_partner) > threshold
        payable_items = list(per_partner.items())
        if fast:
            # one payable line for everybody through the ORM (balanced entry), split per
            # distributor in SQL after posting (below)
            (first_did, first_partner), _amount = payable_items[0]
            payable_items = [((first_did, first_partner), sum(per_partner.values()))]
        line_vals += [
            Command.create(
                {
                    "name": self.name,
                    "account_id": payable.id,
                    "partner_id": partner_id,
                    "balance": -cur.round(amount),
                }
            )
            for (did, partner_id), amount in payable_items
        ]
        move = (
            self.env["account.move"]
            .with_context(tracking_disable=True)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": plan.journal_id.id,
                    "company_id": self.company_id.id,
                    "date": self.date,
                    "ref": self.name,
                    "line_ids": line_vals,
                }
            )
        )
        move.action_post()
        if fast:
            self._split_payable_sql(move, per_partner)
        self._link_lines(distributors, [move.id] * len(distributors))
        return move

    def _split_payable_sql(self, move, per_partner):
        """Replace the single payable line of the posted consolidated ``move`` by one
        payable line per distributor (copies of it), set-based: the entry stays balanced."""
        cr = self.env.cr
        self.env.flush_all()
        line = move.line_ids.filtered(
            lambda ln: ln.account_id.account_type == "liability_payable"
        )
        line.ensure_one()
        cur = self.currency_id
        partners = [partner_id for (_did, partner_id) in per_partner]
        amounts = [cur.round(a) for a in per_partner.values()]
        cr.execute(SQL("DROP TABLE IF EXISTS ds_bt_pay"))
        cr.execute(
            SQL(
                """CREATE TEMP TABLE ds_bt_pay ON COMMIT DROP AS
               SELECT p.partner_id, p.amount::numeric AS amount, p.seq
               FROM unnest(%s::int[], %s::numeric[]) WITH ORDINALITY AS p(partner_id, amount, seq)""",
                partners,
                amounts,
            )
        )
        amount = SQL("p.amount")
        now = SQL("NOW() AT TIME ZONE 'UTC'")
        over = {
            "partner_id": SQL("p.partner_id"),
            "debit": SQL("0.0"),
            "credit": amount,
            "balance": SQL("-%s", amount),
            "amount_currency": SQL("-%s", amount),
            "amount_residual": SQL("-%s", amount),
            "amount_residual_currency": SQL("-%s", amount),
            "create_date": now,
            "write_date": now,
        }
        cr.execute(
            SQL(
                "%s FROM ds_bt_pay p CROSS JOIN account_move_line t WHERE t.id = %s AND p.seq > 1 ORDER BY p.seq",
                self._sql_clone(
                    "account_move_line",
                    over,
                    SQL("nextval(pg_get_serial_sequence('account_move_line', 'id'))"),
                ),
                line.id,
            )
        )
        cr.execute(
            SQL(
                """UPDATE account_move_line t SET debit = 0.0, credit = p.amount, balance = -p.amount,
                      amount_currency = -p.amount, amount_residual = -p.amount,
                      amount_residual_currency = -p.amount
               FROM ds_bt_pay p WHERE t.id = %s AND p.seq = 1""",
                line.id,
            )
        )
        cr.execute(SQL("DROP TABLE IF EXISTS ds_bt_pay"))
        self.env.invalidate_all()
