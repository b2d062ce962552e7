from . import placement, portal
