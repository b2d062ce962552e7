from odoo import models
from odoo.osv import expression


class ProductPricelist(models.Model):
    """Rank pricelists (``ds.rank.pricelist_id``) are distributor prices: on the website
    they are nobody's to choose (not listed, not selectable by code or URL, whatever their
    website or "selectable" flag says); ``website.get_pricelist_available`` adds a
    distributor's own rank pricelist for them alone."""

    _inherit = "product.pricelist"

    def _get_website_pricelists_domain(self, website):
        domain = super()._get_website_pricelists_domain(website)
        rank_ids = self._ds_rank_pricelist_ids()
        if rank_ids:
            domain = expression.AND([domain, [("id", "not in", rank_ids)]])
        return domain

    def _is_available_on_website(self, website):
        return super()._is_available_on_website(website) and not self._ds_is_rank_pricelist()
