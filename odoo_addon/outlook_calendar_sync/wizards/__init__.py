from . import outlook_sync_reset_wizard
