import logging
import time
from decimal import ROUND_CEILING, Decimal

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..engine.sql import bulk_settings
from .derived_table import drop_indexes, ensure_table

_logger = logging.getLogger(__name__)

CUSTOMER_MOVE_TYPES = ("out_invoice", "out_refund")


def cents_at_least(value):
    """The smallest whole number of cents at least ``value`` (a float in currency units).

    A volume of whole cents ``x`` satisfies ``x >= value`` exactly when it satisfies
    ``x >= cents_at_least(value)``; the float is read as its shortest decimal (0.3, not
    0.299999...)."""
    return int(
        (Decimal(repr(float(value or 0.0))) * 100).to_integral_value(ROUND_CEILING)
    )


class DsVolume(models.Model):
    _name = "ds.volume"
    _description = "Distributor Volume per Period"
    _order = "period_id desc, gv desc, id"
    _rec_name = "distributor_id"
    # derived data, one row per distributor and period written set-based by the volume step:
    # the table is made by init() without foreign keys (see derived_table.py); the ondelete
    # rules below are applied by ds.distributor / ds.period / ds.rank unlink().
    _auto = False

    distributor_id = fields.Many2one(
        "ds.distributor", required=True, ondelete="cascade"
    )
    period_id = fields.Many2one("ds.period", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True)
    pv = fields.Float(string="PV", digits=(16, 2), aggregator="sum")
    bv = fields.Float(string="BV", digits=(16, 2), aggregator="sum")
    gv = fields.Float(
        string="GV",
        digits=(16, 2),
        aggregator="sum",
        help="Group volume: PV of the whole subtree including own PV.",
    )
    qualified_legs = fields.Integer(
        string="Legs toward next rank",
        aggregator="max",
        help="Frontline legs qualifying for the next rank (the rank right above the paid-as rank; "
        "at the top rank, the paid-as rank): legs containing at least one distributor whose paid-as rank "
        "is at least that rank's leg rank (legs with group volume when it has no leg rank). "
        "A terminated frontline member is never a qualified leg.",
    )
    next_gv = fields.Float(
        string="GV counted for next rank",
        digits=(16, 2),
        aggregator="max",
        help="Group volume counted toward the next rank's minimum GV, as the volume step evaluated "
        "it: own PV + each frontline leg's GV capped at the next rank's leg cap (Max Leg % of its "
        "minimum GV), rounded down to the cent (at the top rank: toward the paid-as rank). "
        "Empty on rows computed before this figure was stored: recompute the period.",
    )
    is_active = fields.Boolean(
        string="Active", help="PV reached the company's active minimum PV."
    )
    paid_rank_id = fields.Many2one("ds.rank", string="Paid-as Rank")
    next_rank_id = fields.Many2one("ds.rank")
    new_rank = fields.Boolean(help="First time the distributor reaches this rank.")
    prior_highest_rank_id = fields.Many2one(
        "ds.rank",
        string="Highest Rank Before",
        help="The distributor's highest rank before this period: a paid-as rank above it is "
        "a new rank.",
    )
    sponsor_id = fields.Many2one(
        "ds.distributor",
        string="Sponsor (snapshot)",
        help="Sponsor when the volumes were computed.",
    )
    depth = fields.Integer(string="Depth (snapshot)", aggregator="max")
    distributor_state = fields.Selection(
        [
            ("active", "Active"),
            ("suspended", "Suspended"),
            ("terminated", "Terminated"),
        ],
        string="Status (snapshot)",
        help="The distributor's status when the volumes were computed (for a closed period: "
        "when it closed). The bonus runs of the period judge eligibility on it: only an active "
        "distributor earns, reaches a new rank and has their rank updated at the close.",
    )
    period_state = fields.Selection(related="period_id.state", string="Period Status")
    rank_progress_html = fields.Html(
        string="Rank Progress",
        compute="_compute_rank_progress_html",
        sanitize=False,
        help="What the next rank requires, what the volume step counted toward it, what is "
        "missing, met or not (see _ds_rank_progress).",
    )

    def _compute_rank_progress_html(self):
        for volume in self:
            volume.rank_progress_html = self.env["ir.qweb"]._render(
                "crm_direct_selling.ds_rank_progress_table",
                {"progress": volume._ds_rank_progress()},
            )

    def _ds_rank_progress(self):
        """Rank progress of this volume row: the one source every screen reads.

        The figures are the ones the volume step stored when it evaluated the next rank
        (``next_rank_id``: the rank right above the paid-as rank): ``pv``, ``next_gv`` (own PV +
        the frontline legs' GV capped at the next rank's leg cap, rounded down to the cent) and
        ``qualified_legs`` (frontline legs holding the next rank's leg rank, or with group volume).
        "Met" is decided as the engine decides: volumes in whole cents against the threshold
        rounded up to the cent (``cents_at_least``), legs as integers; a requirement of 0 is none.
        For a paid-as rank below the top, the next rank is therefore never entirely met (the
        volume step would have paid it).

        Returns a dict: ``state`` (``progress``; ``top``: the paid-as rank is the highest;
        ``terminated``: no rank; ``no_rank``: the plan has no rank), ``period``, ``paid_rank``,
        ``next_rank``, ``rows`` (one dict per requirement of the next rank: ``key`` (pv / gv /
        legs), ``label``, ``required``, ``actual`` (None: not stored on this row, recompute the
        period), ``missing``, ``met``, ``integer``, ``pct``), ``all_met``.
        """
        self.ensure_one()
        rank = self.next_rank_id
        result = {
            "volume": self,
            "period": self.period_id,
            "paid_rank": self.paid_rank_id,
            "next_rank": rank,
            "rows": [],
            "all_met": False,
        }
        if self.distributor_state == "terminated":
            # no rank, hence no rank to reach (the stored next rank is the first one)
            result.update(state="terminated", next_rank=rank.browse())
            return result
        if not rank:
            result["state"] = "top" if self.paid_rank_id else "no_rank"
            return result
        result["state"] = "progress"
        labels = self._ds_progress_labels(rank)
        rows = result["rows"]

        def cents_row(key, minimum, actual):
            threshold = cents_at_least(minimum)
            if threshold <= 0:
                return
            if actual is None:
                rows.append(
                    {
                        "key": key,
                        "label": labels[key],
                        "required": threshold / 100,
                        "actual": None,
                        "missing": None,
                        "met": None,
                        "integer": False,
                        "pct": 0,
                    }
                )
                return
            # stored volumes have two decimals: whole cents
            have = round(actual * 100)
            rows.append(
                {
                    "key": key,
                    "label": labels[key],
                    "required": threshold / 100,
                    "actual": have / 100,
                    "missing": max(0, threshold - have) / 100,
                    "met": have >= threshold,
                    "integer": False,
                    "pct": max(0, min(100, int(100 * have / threshold))),
                }
            )

        cents_row("pv", rank.min_pv, self.pv)
        # next_gv is empty on rows computed before it was stored (the ORM reads 0.0)
        next_gv = None if self.id in self._ds_without_next_gv() else self.next_gv
        cents_row("gv", rank.min_gv, next_gv)
        if rank.min_qualified_legs > 0:
            legs = self.qualified_legs or 0
            rows.append(
                {
                    "key": "legs",
                    "label": labels["legs"],
                    "required": rank.min_qualified_legs,
                    "actual": legs,
                    "missing": max(0, rank.min_qualified_legs - legs),
                    "met": legs >= rank.min_qualified_legs,
                    "integer": True,
                    "pct": max(0, min(100, int(100 * legs / rank.min_qualified_legs))),
                }
            )
        result["all_met"] = all(row["met"] for row in rows)
        return result

    def _ds_without_next_gv(self):
        """Ids of these rows that carry no ``next_gv`` (computed before it was stored)."""
        ids = [id_ for id_ in self.ids if isinstance(id_, int)]
        if not ids:
            return set()
        self.flush_recordset(["next_gv"])
        rows = self.env.execute_query(
            SQL("SELECT id FROM ds_volume WHERE id = ANY(%s) AND next_gv IS NULL", ids)
        )
        return {id_ for (id_,) in rows}

    @api.model
    def _ds_progress_labels(self, rank=None):
        """Labels of the rank-progress figures (portal, history, back office), naming what each
        figure counts; with ``rank`` (the next rank), its leg rank and leg cap are named too."""
        labels = {
            "pv": _("Personal volume (PV)"),
            "gv": _("GV counted for next rank"),
            "legs": _("Legs toward next rank"),
        }
        if rank:
            if rank.max_leg_pct > 0 and rank.min_gv > 0:
                pct = f"{rank.max_leg_pct:g}"
                labels["gv"] = _(
                    "GV counted for next rank (leg cap %(pct)s%%)", pct=pct
                )
            else:
                labels["gv"] = _("GV counted for next rank (no leg cap)")
            if rank.leg_rank_id:
                labels["legs"] = _(
                    "Legs toward next rank (%(rank)s or higher)",
                    rank=rank.leg_rank_id.name,
                )
            else:
                labels["legs"] = _("Legs toward next rank (legs with group volume)")
        return labels

    def init(self):
        # the unique (distributor_id, period_id) index serves distributor lookups too
        ensure_table(
            self.env.cr,
            self._table,
            [
                ("distributor_id", "int4 NOT NULL"),
                ("period_id", "int4 NOT NULL"),
                ("company_id", "int4 NOT NULL"),
                ("pv", "numeric"),
                ("bv", "numeric"),
                ("gv", "numeric"),
                ("qualified_legs", "int4"),
                ("next_gv", "numeric"),
                ("is_active", "bool"),
                ("paid_rank_id", "int4"),
                ("next_rank_id", "int4"),
                ("new_rank", "bool"),
                ("prior_highest_rank_id", "int4"),
                ("sponsor_id", "int4"),
                ("depth", "int4"),
                ("distributor_state", "varchar"),
            ],
            indexes=[("ds_volume__period_id_index", ("period_id",))],
            unique=[
                ("ds_volume_distributor_period_key", ("distributor_id", "period_id"))
            ],
        )
        drop_indexes(
            self.env.cr,
            [
                "ds_volume__company_id_index",
                "ds_volume__paid_rank_id_index",
                "ds_volume__sponsor_id_index",
            ],
        )

    @api.model
    def _ds_compute(self, period):
        """Recompute every ds.volume row of ``period`` set-based in PostgreSQL.

        1. attach posted customer invoices / refunds of the period dates that have no period yet;
        2. PV/BV per credited distributor, in cents (exact integer sums; see _ds_level_sql);
        3. bottom-up level loop (one INSERT per genealogy level, inside PostgreSQL): GV, per-rank
           capped group volume and qualified-leg counts, paid-as rank and the highest rank of each
           subtree. The rank rules are compiled into the statement (one aggregate per distinct leg cap
           and leg condition, one CASE over the ranks), so a level costs one scan of its children and
           of its parents, whatever the number of ranks;
        4. write the period's ds.volume rows: on a first compute they are inserted straight from
           the results; on a recompute only the difference is written (_ds_write_difference).

        Paid-as rank of a distributor = the highest rank (by sequence) whose rules all hold:
        PV >= min PV, PV + sum over frontline legs of min(leg GV, leg cap) >= min GV (no cap: leg GV;
        no frontline: PV alone), and at least min qualified legs frontline legs qualify (leg rank:
        the leg's subtree holds a paid-as rank >= leg rank; no leg rank: the leg has GV > 0).
        A requirement of 0 is none, even for a negative volume (refunds).
        Terminated distributors: their volume of the period stays in their upline's GV (capped
        like a leg's), but they have no rank and never qualify a leg. Suspended distributors: the
        rank they qualify for is computed (and counts for their upline's legs) but is never a
        new rank. The status is kept on the row (``distributor_state``) for the bonus runs.
        See readme/DESCRIPTION.md, "Rank and bonus rules".
        """
        period.ensure_one()
        started = time.time()
        timings = []

        def lap(label):
            timings.append((label, time.time()))

        cr = self.env.cr
        for model in (
            "account.move",
            "account.move.line",
            "ds.distributor",
            "ds.rank",
            "res.partner",
            "ds.period",
        ):
            self.env[model].flush_model()
        company = period.company_id
        # the bonus engine's bulk settings (memory for sorts, hashes and temp tables, no JIT:
        # the insert of the rows spent 2 s compiling at 100k), until the end of the transaction
        bulk_settings(cr)
        cr.execute(
            SQL(
                """
            UPDATE account_move am
               SET ds_period_id = %(period)s
             WHERE am.ds_period_id IS NULL AND am.state = 'posted' AND am.move_type IN %(types)s
               AND am.company_id = %(company)s AND am.date BETWEEN %(dfrom)s AND %(dto)s
            """,
                period=period.id,
                types=CUSTOMER_MOVE_TYPES,
                company=company.id,
                dfrom=period.date_from,
                dto=period.date_to,
            )
        )
        cr.execute(
            SQL(
                """
            UPDATE account_move am
               SET ds_distributor_id = COALESCE(p.ds_distributor_id, cp.ds_distributor_id,
                                                p.ds_referrer_id, cp.ds_referrer_id)
              FROM res_partner p
              JOIN res_partner cp ON cp.id = COALESCE(p.commercial_partner_id, p.id)
             WHERE p.id = am.partner_id AND am.ds_distributor_id IS NULL AND am.ds_period_id = %(period)s
               AND am.state = 'posted' AND am.move_type IN %(types)s
            """,
                period=period.id,
                types=CUSTOMER_MOVE_TYPES,
            )
        )
        lap("attach invoices")
        cr.execute(
            SQL(
                """
            DROP TABLE IF EXISTS ds_tmp_rank;
            CREATE TEMP TABLE ds_tmp_rank ON COMMIT DROP AS
              WITH r AS (
                SELECT r.*, ROW_NUMBER() OVER (ORDER BY r.sequence, r.id) AS ord
                  FROM ds_rank r
                 WHERE r.active AND (r.company_id IS NULL OR r.company_id = %(company)s)
              )
              SELECT r.id, r.ord, COALESCE(r.min_pv, 0) AS min_pv, COALESCE(r.min_gv, 0) AS min_gv,
                     COALESCE(r.min_qualified_legs, 0) AS min_legs, lr.ord AS leg_ord,
                     COALESCE(r.max_leg_pct, 0) AS max_leg_pct
                FROM r LEFT JOIN r lr ON lr.id = r.leg_rank_id;
            -- a handful of rows: without statistics the planner took it for ~1,000 and sorted
            -- the million result rows for a merge join with it
            ANALYZE ds_tmp_rank;
            SELECT ord, min_pv, min_gv, min_legs, leg_ord, max_leg_pct
              FROM ds_tmp_rank ORDER BY ord;
            """,
                company=company.id,
            )
        )
        # the rank rules in cents, as the volumes in the level loop: a PV / GV of whole cents
        # reaches a threshold exactly when it reaches the threshold rounded up to the cent; the
        # leg cap (a percentage of the rank's minimum GV) is exact in cents too
        ranks = [
            (
                ord_,
                cents_at_least(min_pv),
                cents_at_least(min_gv),
                min_legs,
                leg_ord,
                float(Decimal(repr(min_gv)) * Decimal(repr(pct)))
                if pct > 0 and min_gv > 0
                else None,
            )
            for ord_, min_pv, min_gv, min_legs, leg_ord, pct in cr.fetchall()
        ]
        cr.execute(
            SQL(
                """
            DROP TABLE IF EXISTS ds_tmp_vol;
            DROP TABLE IF EXISTS ds_tmp_res;
            DROP TABLE IF EXISTS ds_tmp_out;
            CREATE TEMP TABLE ds_tmp_vol ON COMMIT DROP AS
              WITH pv AS (
                -- the invoices' stored PV/BV totals (sums of their lines' signed PV/BV)
                -- in cents (PV/BV have 2 decimals): integer sums are exact and much cheaper
                -- than numeric ones, and integer-valued float8 arithmetic stays exact (below
                -- 2^53 cents) in the level loop
                SELECT am.ds_distributor_id AS did, SUM((am.ds_pv_total * 100)::int8) AS pv,
                       SUM((am.ds_bv_total * 100)::int8) AS bv
                  FROM account_move am
                 WHERE am.ds_period_id = %(period)s AND am.state = 'posted' AND am.move_type IN %(types)s
                   AND am.ds_distributor_id IS NOT NULL
                 GROUP BY am.ds_distributor_id
              )
              SELECT d.id, d.sponsor_id, d.depth, d.state, %(prior)s AS highest_rank_id,
                     COALESCE(pv.pv, 0)::int8::float8 AS pvc, COALESCE(pv.bv, 0)::int8::float8 AS bvc
                FROM ds_distributor d
           LEFT JOIN pv ON pv.did = d.id
                %(prior_join)s
               WHERE d.company_id = %(company)s
            ORDER BY d.depth, d.id;
            CREATE INDEX ON ds_tmp_vol (depth);
            ANALYZE ds_tmp_vol;
            -- results, appended level by level (no UPDATE: no dead tuples, no index churn)
            CREATE TEMP TABLE ds_tmp_res (
                id int, sponsor_id int, depth int, gv float8, msub bigint, paid_ord bigint, legs bigint,
                term bool, ngv float8
            ) ON COMMIT DROP;
            CREATE INDEX ON ds_tmp_res (depth);
            """,
                period=period.id,
                company=company.id,
                types=CUSTOMER_MOVE_TYPES,
                **self._ds_prior_highest(period),
            )
        )
        lap("PV/BV and genealogy snapshot")
        level_sql = self._ds_level_sql(ranks)
        # One INSERT per level, deepest first, run by PL/pgSQL: wide levels are planned for their
        # actual size (EXECUTE), narrow ones (deep chains) reuse the cached plan.
        cr.execute(
            SQL(
                """
            DO $ds$
            DECLARE
                lvl int;
                cnt int;
            BEGIN
                FOR lvl, cnt IN
                    SELECT depth, COUNT(*)::int FROM ds_tmp_vol WHERE depth IS NOT NULL
                     GROUP BY depth ORDER BY depth DESC
                LOOP
                    IF cnt > 200 THEN
                        EXECUTE $q$ %(q_dyn)s $q$ USING lvl;
                        IF cnt > 20000 THEN
                            ANALYZE ds_tmp_res;
                        END IF;
                    ELSE
                        %(q_static)s;
                    END IF;
                END LOOP;
            END
            $ds$;
            """,
                q_dyn=SQL(level_sql % {"lvl": "$1"}),
                q_static=SQL(level_sql % {"lvl": "lvl"}),
            )
        )
        lap("level loop")
        result_rows = SQL(
            """
            SELECT t.id AS distributor_id, ROUND(t.pvc::int8 / 100.0, 2) AS pv,
                   ROUND(t.bvc::int8 / 100.0, 2) AS bv,
                   ROUND(COALESCE(s.gv, 0)::int8 / 100.0, 2) AS gv,
                   COALESCE(s.legs, 0)::int AS qualified_legs,
                   ROUND(s.ngv::int8 / 100.0, 2) AS next_gv,
                   t.pvc >= %(min_pv)s AND t.state != 'terminated' AS is_active,
                   pr.id AS paid_rank_id, nr.id AS next_rank_id,
                   pr.id IS NOT NULL AND t.state = 'active'
                   AND (t.highest_rank_id IS NULL OR prr.sequence > hr.sequence
                        OR (prr.sequence = hr.sequence AND prr.id > hr.id)) AS new_rank,
                   t.highest_rank_id AS prior_highest_rank_id, t.sponsor_id, t.depth,
                   t.state AS distributor_state
              FROM ds_tmp_vol t
         LEFT JOIN ds_tmp_res s ON s.id = t.id
         LEFT JOIN ds_tmp_rank pr ON pr.ord = s.paid_ord
         LEFT JOIN ds_tmp_rank nr
                ON nr.ord = CASE WHEN s.paid_ord < 0 THEN 1 ELSE s.paid_ord + 1 END
         LEFT JOIN ds_rank prr ON prr.id = pr.id
         LEFT JOIN ds_rank hr ON hr.id = t.highest_rank_id
             WHERE t.state != 'terminated' OR t.pvc != 0 OR COALESCE(s.gv, 0) != 0
            """,
            min_pv=cents_at_least(company.ds_active_min_pv),
        )
        insert_cols = SQL(
            "distributor_id, period_id, company_id, pv, bv, gv, qualified_legs, next_gv, is_active, "
            "paid_rank_id, next_rank_id, new_rank, prior_highest_rank_id, sponsor_id, depth, "
            "distributor_state"
        )
        cr.execute(
            SQL("SELECT 1 FROM ds_volume WHERE period_id = %s LIMIT 1", period.id)
        )
        if not cr.rowcount:
            # first compute of the period: the rows go straight in, in distributor order
            cr.execute(
                SQL(
                    """
                INSERT INTO ds_volume (%(cols)s)
                SELECT o.distributor_id, %(period)s, %(company)s, o.pv, o.bv, o.gv,
                       o.qualified_legs, o.next_gv, o.is_active, o.paid_rank_id, o.next_rank_id, o.new_rank,
                       o.prior_highest_rank_id, o.sponsor_id, o.depth, o.distributor_state
                  FROM (%(rows)s) o
              ORDER BY o.distributor_id
                """,
                    cols=insert_cols,
                    rows=result_rows,
                    period=period.id,
                    company=company.id,
                )
            )
            inserted = cr.rowcount
            lap("insert rows")
        else:
            inserted = self._ds_write_difference(period, result_rows, insert_cols)
            lap("write the difference")
        if inserted > 10000:
            # fresh statistics for what reads the new rows next in this transaction (the bonus
            # run): the planner would otherwise plan against the table as it was before
            cr.execute(SQL("ANALYZE ds_volume"))
        cr.execute(
            SQL(
                """
            DROP TABLE ds_tmp_vol;
            DROP TABLE ds_tmp_res;
            DROP TABLE ds_tmp_rank;
            DROP TABLE IF EXISTS ds_tmp_out;
            UPDATE ds_period SET computed_date = now() at time zone 'UTC' WHERE id = %s;
            """,
                period.id,
            )
        )
        self.env.invalidate_all()
        previous = started
        phases = []
        for label, stamp in timings:
            phases.append(f"{label} {stamp - previous:.2f}s")
            previous = stamp
        _logger.info(
            "ds.volume: period %s computed in %.2fs (%s)",
            period.name,
            time.time() - started,
            ", ".join(phases),
        )
        return True

    def _ds_write_difference(self, period, result_rows, insert_cols):
        """Write the period's new volume rows over the stored ones; return the rows inserted.

        Only the difference is written: unchanged rows are not touched, changed rows are updated
        in place, vanished rows are deleted and new rows inserted."""
        cr = self.env.cr
        company = period.company_id
        cr.execute(
            SQL(
                """
            CREATE TEMP TABLE ds_tmp_out ON COMMIT DROP AS %(rows)s ORDER BY distributor_id;
            CREATE UNIQUE INDEX ON ds_tmp_out (distributor_id);
            ANALYZE ds_tmp_out;
            UPDATE ds_volume v
               SET (company_id, pv, bv, gv, qualified_legs, next_gv, is_active, paid_rank_id,
                    next_rank_id, new_rank, prior_highest_rank_id, sponsor_id, depth, distributor_state)
                 = (%(company)s, o.pv, o.bv, o.gv, o.qualified_legs, o.next_gv, o.is_active, o.paid_rank_id,
                    o.next_rank_id, o.new_rank, o.prior_highest_rank_id, o.sponsor_id, o.depth,
                    o.distributor_state)
              FROM ds_tmp_out o
             WHERE v.period_id = %(period)s AND v.distributor_id = o.distributor_id
               AND (v.company_id, v.pv, v.bv, v.gv, v.qualified_legs, v.next_gv, v.is_active, v.paid_rank_id,
                    v.next_rank_id, v.new_rank, v.prior_highest_rank_id, v.sponsor_id, v.depth,
                    v.distributor_state)
                   IS DISTINCT FROM
                   (%(company)s, o.pv, o.bv, o.gv, o.qualified_legs, o.next_gv, o.is_active, o.paid_rank_id,
                    o.next_rank_id, o.new_rank, o.prior_highest_rank_id, o.sponsor_id, o.depth,
                    o.distributor_state);
            DELETE FROM ds_volume v
             WHERE v.period_id = %(period)s
               AND NOT EXISTS (SELECT 1 FROM ds_tmp_out o WHERE o.distributor_id = v.distributor_id);
            INSERT INTO ds_volume (%(cols)s)
            SELECT o.distributor_id, %(period)s, %(company)s, o.pv, o.bv, o.gv, o.qualified_legs,
                   o.next_gv, o.is_active, o.paid_rank_id, o.next_rank_id, o.new_rank, o.prior_highest_rank_id,
                   o.sponsor_id, o.depth, o.distributor_state
              FROM ds_tmp_out o
             WHERE NOT EXISTS (SELECT 1 FROM ds_volume v
                                WHERE v.period_id = %(period)s AND v.distributor_id = o.distributor_id)
          ORDER BY o.distributor_id;
            """,
                rows=result_rows,
                cols=insert_cols,
                period=period.id,
                company=company.id,
            )
        )
        return cr.rowcount

    def _ds_prior_highest(self, period):
        """SQL parts giving each distributor's highest rank before ``period`` (column of the
        snapshot, alias ``d`` for the distributor).

        Until the period is closed, it is the distributor's highest rank. Closing sets the
        highest ranks from the period's paid-as ranks; after a reopen, a recompute keeps the
        highest rank each row was computed against (a distributor new in the period: the current
        one), so a rank first reached in this period stays new and its advancement is paid once.
        """
        if not period.ds_ranks_applied:
            return {"prior": SQL("d.highest_rank_id"), "prior_join": SQL()}
        return {
            "prior": SQL(
                "CASE WHEN old.id IS NULL THEN d.highest_rank_id ELSE old.prior_highest_rank_id END"
            ),
            "prior_join": SQL(
                "LEFT JOIN ds_volume old ON old.period_id = %s AND old.distributor_id = d.id",
                period.id,
            ),
        }

    @api.model
    def _ds_level_sql(self, ranks):
        """Text of the statement computing one genealogy level (``%(lvl)s``: the level placeholder).

        ``ranks``: rows (ord, min_pv, min_gv, min_legs, leg_ord, cap) with ord = 1..n by sequence,
        the thresholds and the leg cap in cents. PV and GV are whole cents held in float8 (exact
        below 2^53 cents, and several times faster than numeric in the CASE below); the
        thresholds are written as float8 literals of the same unit.
        """

        def lit(value):
            return "NULL::float8" if value is None else f"{float(value)!r}::float8"

        caps, conds = {}, {}
        for _ord, _min_pv, _min_gv, _min_legs, leg_ord, cap in ranks:
            caps.setdefault(cap, f"s{len(caps)}")
            conds.setdefault(leg_ord, f"l{len(conds)}")
        aggs = [
            f"SUM(LEAST(c.gv, {lit(cap)})) AS {name}" for cap, name in caps.items()
        ] + [
            # a terminated child is never a leg (its volume stays in the sums above)
            "COUNT(*) FILTER (WHERE NOT c.term AND "
            + ("c.gv > 0" if leg_ord is None else f"c.msub >= {int(leg_ord)}")
            + f") AS {name}"
            for leg_ord, name in conds.items()
        ]

        def rules(min_pv, min_gv, min_legs, leg_ord, cap):
            """The rank's requirements; a requirement of 0 is none (even for a negative PV
            or GV, after refunds). Capped GV = own PV + the capped legs (no frontline: no
            leg, own PV alone)."""
            parts = []
            if min_pv > 0:
                parts.append(f"p.pvc >= {lit(min_pv)}")
            if min_gv > 0:
                parts.append(f"p.pvc + COALESCE(a.{caps[cap]}, 0) >= {lit(min_gv)}")
            if min_legs > 0:
                parts.append(f"COALESCE(a.{conds[leg_ord]}, 0) >= {int(min_legs)}")
            return " AND ".join(parts) or "TRUE"

        if ranks:
            # a terminated distributor has no rank
            best = "CASE WHEN p.state = 'terminated' THEN -1 {} ELSE -1 END".format(
                " ".join(
                    f"WHEN {rules(min_pv, min_gv, min_legs, leg_ord, cap)} THEN {int(ord_)}"
                    for ord_, min_pv, min_gv, min_legs, leg_ord, cap in reversed(ranks)
                )
            )
            top = len(ranks)
            # the next rank (at the top rank: the paid-as rank); its legs and its capped GV are
            # the very figures the CASE above compared (same aggregates, same float8 sums)
            next_ord = f"CASE WHEN b.best < 0 THEN 1 WHEN b.best < {top} THEN b.best + 1 ELSE b.best END"
            legs = (
                f"CASE {next_ord} "
                + " ".join(
                    f"WHEN {int(ord_)} THEN COALESCE(b.{conds[leg_ord]}, 0)"
                    for ord_, _min_pv, _min_gv, _min_legs, leg_ord, _cap in ranks
                )
                + " END"
            )
            # capped GV toward the next rank, rounded down to the cent: for a threshold of whole
            # cents T, FLOOR(x) >= T exactly when x >= T (a fractional leg cap gives fractional
            # cents), so the stored figure is met exactly when the engine found it met
            next_gv = (
                f"FLOOR(b.pvc + CASE {next_ord} "
                + " ".join(
                    f"WHEN {int(ord_)} THEN COALESCE(b.{caps[cap]}, 0)"
                    for ord_, _min_pv, _min_gv, _min_legs, _leg_ord, cap in ranks
                )
                + " END)"
            )
        else:
            best, legs, next_gv = "-1", "0", "NULL::float8"
        cond_cols = "".join(f", a.{name}" for name in conds.values()) + "".join(
            f", a.{name}" for name in caps.values()
        )
        return f"""
            WITH a AS (
                SELECT c.sponsor_id AS pid, SUM(c.gv) AS gv, MAX(c.msub) AS msub, {", ".join(aggs) or "1 AS x"}
                  FROM ds_tmp_res c
                 WHERE c.depth = %(lvl)s + 1
              GROUP BY c.sponsor_id
            ),
            b AS (
                SELECT p.id, p.sponsor_id, p.pvc, p.pvc + COALESCE(a.gv, 0) AS gv, COALESCE(a.msub, -1) AS cmsub,
                       p.state = 'terminated' AS term, {best} AS best{cond_cols}
                  FROM ds_tmp_vol p
             LEFT JOIN a ON a.pid = p.id
                 WHERE p.depth = %(lvl)s
            )
            INSERT INTO ds_tmp_res (id, sponsor_id, depth, gv, msub, paid_ord, legs, term, ngv)
            SELECT b.id, b.sponsor_id, %(lvl)s, b.gv, GREATEST(b.best, b.cmsub), b.best,
                   CASE WHEN b.term THEN 0 ELSE {legs} END, b.term,
                   CASE WHEN b.term THEN 0 ELSE {next_gv} END
              FROM b
        """
