from . import autoship, placement, portal
