from . import test_portal_routes, test_portal_tour
