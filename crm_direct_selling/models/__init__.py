# isort: off
# the mixin first: the line models inherit from it
from . import ds_points_line_mixin

# isort: on
from . import (
    account_move,
    account_move_line,
    crm_lead,
    ds_autoship,
    ds_bonus_line,
    ds_bonus_run,
    ds_bonus_run_export,
    ds_bonus_run_payout,
    ds_distributor,
    ds_distributor_lifecycle,
    ds_distributor_placement,
    ds_lead_routing_rule,
    ds_lifecycle_log,
    ds_lifecycle_rule,
    ds_period,
    ds_plan,
    ds_plan_level,
    ds_plan_matching_generation,
    ds_plan_matrix_level,
    ds_plan_placement,
    ds_plan_rank_bonus,
    ds_rank,
    ds_sponsor_change,
    ds_volume,
    mail_thread,
    product_pricelist,
    product_template,
    res_company,
    res_config_settings,
    res_partner,
    res_partner_lifecycle,
    sale_order,
    sale_order_line,
)

# isort: off
# extends ds.volume, ds.period, ds.bonus.run and ds.distributor: imported after them
from . import ds_binary_volume

# isort: on
