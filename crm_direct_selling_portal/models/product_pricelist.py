from odoo import models
from odoo.osv import expression


class ProductPricelist(models.Model):
    """Rank pricelists (``ds.rank.pricelist_id``) are distributor prices: on the website
    they are nobody's to choose (not listed, not selectable by code or URL, whatever their
    website or "selectable" flag says), except for the contacts whose own pricelist they
    are (set at the period close, or by the back office)."""

    _inherit = "product.pricelist"

    def _get_website_pricelists_domain(self, website):
        domain = super()._get_website_pricelists_domain(website)
        rank_ids = self._ds_rank_pricelist_ids()
        if rank_ids:
            domain = expression.AND([domain, [("id", "not in", list(rank_ids))]])
        return domain

    def _is_available_on_website(self, website):
        if not self._ds_is_rank_pricelist():
            return super()._is_available_on_website(website)
        if self.company_id and self.company_id != website.company_id:
            return False
        user = self.env.user
        if user._is_public():
            return False
        # the company-dependent column itself: property_product_pricelist is computed
        # through this very check
        own = user.partner_id.sudo().with_company(website.company_id)
        return own.specific_property_product_pricelist == self
