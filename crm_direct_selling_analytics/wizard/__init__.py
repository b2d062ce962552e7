from . import loyalty_generate_wizard
