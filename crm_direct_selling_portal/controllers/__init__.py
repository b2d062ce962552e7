from . import autoship, portal
