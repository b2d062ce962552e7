from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column


class SaleOrder(models.Model):
    _inherit = "sale.order"

    ds_pv_total = fields.Float(
        string="Total PV", digits=(16, 2), compute="_compute_ds_totals", store=True
    )
    ds_bv_total = fields.Float(
        string="Total BV", digits=(16, 2), compute="_compute_ds_totals", store=True
    )
    ds_referrer_id = fields.Many2one(
        "ds.distributor",
        string="Referrer",
        compute="_compute_ds_referrer_id",
        store=True,
        readonly=False,
        precompute=True,
        help="Distributor credited with this retail customer; saved on the customer at confirmation.",
    )

    ds_distributor_id = fields.Many2one(
        "ds.distributor",
        string="Credited Distributor",
        compute="_compute_ds_distributor_id",
        store=True,
        index="btree_not_null",
        help="Distributor credited with this order's volume: the buyer if a distributor "
        "(a distributor ordering for themselves), else the order's referrer. The invoice "
        "credits the same distributor when it is posted.",
    )

    def _auto_init(self):
        # upgrading a database of many orders: the credited distributor in one UPDATE
        # instead of the ORM's recomputation of every order in Python
        cr = self.env.cr
        if (
            not column_exists(cr, "sale_order", "ds_distributor_id")
            and column_exists(cr, "sale_order", "ds_referrer_id")
            and column_exists(cr, "res_partner", "ds_distributor_id")
        ):
            create_column(cr, "sale_order", "ds_distributor_id", "int4")
            cr.execute(
                SQL(
                    """UPDATE sale_order so
                          SET ds_distributor_id = COALESCE(
                                  p.ds_distributor_id, cp.ds_distributor_id, so.ds_referrer_id)
                         FROM res_partner p
                         JOIN res_partner cp ON cp.id = p.commercial_partner_id
                        WHERE p.id = so.partner_id"""
                )
            )
        return super()._auto_init()

    @api.depends(
        "partner_id.ds_distributor_id",
        "partner_id.commercial_partner_id.ds_distributor_id",
        "ds_referrer_id",
    )
    def _compute_ds_distributor_id(self):
        for order in self:
            partner = order.partner_id
            order.ds_distributor_id = (
                partner.ds_distributor_id
                or partner.commercial_partner_id.ds_distributor_id
                or order.ds_referrer_id
            )

    @api.depends("order_line.ds_pv", "order_line.ds_bv")
    def _compute_ds_totals(self):
        for order in self:
            order.ds_pv_total = sum(order.order_line.mapped("ds_pv"))
            order.ds_bv_total = sum(order.order_line.mapped("ds_bv"))

    @api.depends("partner_id", "user_id")
    def _compute_ds_referrer_id(self):
        for order in self:
            partner = order.partner_id.commercial_partner_id
            if partner.ds_distributor_id:
                order.ds_referrer_id = False
            elif partner.ds_referrer_id:
                order.ds_referrer_id = partner.ds_referrer_id
            elif (
                not order.ds_referrer_id and order.user_id.partner_id.ds_distributor_id
            ):
                order.ds_referrer_id = order.user_id.partner_id.ds_distributor_id

    def action_confirm(self):
        res = super().action_confirm()
        for order in self:
            partner = order.partner_id.commercial_partner_id
            if (
                order.ds_referrer_id
                and not partner.ds_distributor_id
                and not partner.ds_referrer_id
            ):
                # the order's referrer, chosen by whoever may confirm the order, is
                # saved on the customer (res.partner refuses it from non-DS users)
                partner.sudo().ds_referrer_id = order.ds_referrer_id
        return res
