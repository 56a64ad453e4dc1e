from . import (
    calendar_attendee,
    calendar_event,
    ir_module_module,
    outlook_sync_account,
    outlook_sync_auth_request,
    outlook_sync_config,
    outlook_sync_link,
    outlook_sync_log,
    outlook_sync_run,
    outlook_sync_tombstone,
    res_config_settings,
    res_users,
)
