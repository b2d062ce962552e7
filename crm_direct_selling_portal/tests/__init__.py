from . import test_permission_matrix, test_portal_routes, test_portal_tour
