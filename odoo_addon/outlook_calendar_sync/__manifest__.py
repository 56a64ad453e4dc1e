{
    "name": "Outlook Calendar Sync",
    "summary": "Two-way sync between Odoo Calendar and Microsoft Outlook Calendar (Microsoft Graph)",
    "version": "18.0.1.0.0",
    "category": "Productivity/Calendar",
    "author": "outlook-sync contributors",
    "license": "LGPL-3",
    "depends": ["calendar"],
    "external_dependencies": {"python": ["outlook-sync"]},
    "data": [
        "security/ir.model.access.csv",
        "security/outlook_sync_security.xml",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "views/outlook_sync_templates.xml",
        "views/outlook_sync_account_views.xml",
        "views/outlook_sync_log_views.xml",
        "wizards/outlook_sync_reset_wizard_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_users_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "outlook_calendar_sync/static/src/**/*",
        ],
        "web.assets_tests": [
            "outlook_calendar_sync/static/tests/tours/*.js",
        ],
    },
    "pre_init_hook": "pre_init_hook",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
}
