from . import (
    ds_autoship,
    ds_distributor,
    ds_portal_message,
    res_partner,
    res_users,
    sale_order,
)
