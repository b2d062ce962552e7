from odoo import api, models, tools


class ProductPricelist(models.Model):
    _inherit = "product.pricelist"

    @api.model
    @tools.ormcache()
    def _ds_rank_pricelist_ids(self):
        """Ids of the pricelists of ranks (``ds.rank.pricelist_id``), archived ranks included
        (cached: ds.rank clears the cache when a rank's pricelist changes)."""
        ranks = self.env["ds.rank"].sudo().with_context(active_test=False)
        return tuple(ranks.search([("pricelist_id", "!=", False)]).pricelist_id.ids)

    def _ds_is_rank_pricelist(self):
        self.ensure_one()
        return self.id in self._ds_rank_pricelist_ids()

    def _get_partner_pricelist_multi_search_domain_hook(self, company_id):
        # a contact without a pricelist of their own falls back on the first pricelist found:
        # never on a rank's (distributor prices); retail customers keep the public price
        domain = super()._get_partner_pricelist_multi_search_domain_hook(company_id)
        rank_ids = self._ds_rank_pricelist_ids()
        if rank_ids:
            domain = [*domain, ("id", "not in", list(rank_ids))]
        return domain
