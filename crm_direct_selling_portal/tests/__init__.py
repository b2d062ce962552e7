from . import test_genealogy_access, test_portal_routes, test_portal_tour
from . import test_every_button
