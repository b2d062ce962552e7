from . import (
    ds_distributor,
    ds_distributor_training,
    ds_portal_message,
    ds_segment,
    res_company,
    res_config_settings,
    res_partner,
    res_users,
    sale_order,
    slide_channel,
    slide_channel_partner,
    slide_slide,
)
