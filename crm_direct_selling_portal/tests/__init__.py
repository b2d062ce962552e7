from . import (
    test_every_button,
    test_genealogy_access,
    test_portal_routes,
    test_portal_tour,
)
