from . import (
    ds_bonus_run_compare,
    ds_bonus_statement,
    ds_distributor_export,
    ds_distributor_import,
    ds_distributor_move,
    ds_distributor_place,
    ds_distributor_terminate,
    ds_period_generate,
)
