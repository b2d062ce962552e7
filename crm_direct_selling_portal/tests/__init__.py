from . import (
    test_autoship_concurrency,
    test_autoship_job,
    test_autoship_portal,
    test_every_button,
    test_genealogy_access,
    test_permission_matrix,
    test_portal_dashboard,
    test_portal_routes,
    test_portal_statement,
    test_portal_tour,
    test_rank_progress,
    test_shop,
)
