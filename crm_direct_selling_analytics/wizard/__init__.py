# ruff: noqa: I001  (alphabetical, one module per line)
from . import base_partner_merge
from . import loyalty_generate_wizard
