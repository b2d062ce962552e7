from . import autoship, placement, portal, shop_autoship, training
