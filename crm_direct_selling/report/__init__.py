from . import ds_bonus_statement
