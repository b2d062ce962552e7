from . import (
    test_bonus_plan,
    test_bonus_run,
    test_bonus_run_tour,
    test_derived_tables,
    test_ds_deep_chain,
    test_ds_genealogy,
    test_ds_import,
    test_ds_volume,
    test_genealogy_tour,
    test_generator,
    test_lead_routing,
    test_lifecycle,
)
