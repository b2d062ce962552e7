from . import (
    test_every_button,
    test_genealogy_access,
    test_permission_matrix,
    test_placement_portal,
    test_portal_dashboard,
    test_portal_routes,
    test_portal_statement,
    test_portal_tour,
    test_rank_progress,
)
