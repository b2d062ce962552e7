from . import (
    ds_autoship,
    ds_distributor,
    ds_portal_message,
    product_pricelist,
    res_partner,
    res_users,
    sale_order,
    website,
)
