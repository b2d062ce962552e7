from . import (
    ds_distributor,
    ds_distributor_placement,
    ds_portal_message,
    res_partner,
    res_users,
    sale_order,
)
