from . import (
    test_access,
    test_change_tracking,
    test_module_guard,
    test_oauth_http,
    test_oauth_state,
    test_reset_wizard,
    test_run_sync,
    test_security_access_http,
    test_settings,
    test_sync_import,
    test_sync_mails,
    test_ui,
)
