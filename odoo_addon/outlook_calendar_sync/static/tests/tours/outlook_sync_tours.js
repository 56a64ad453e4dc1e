/** @odoo-module **/

import { registry } from "@web/core/registry";

const panel = (state) => `.o_outlook_sync_panel[data-outlook-state='${state}']`;

registry.category("web_tour.tours").add("outlook_sync_button_tour", {
    url: "/odoo/calendar",
    steps: () => [
        {
            content: "The Outlook panel sits under the mini calendar and shows the connection",
            trigger: `.o_calendar_sidebar .o_datetime_picker ~ ${panel("connected")}:contains('web@example.com')`,
        },
        {
            content: "Sync now",
            trigger: `${panel("connected")} .o_outlook_sync_now`,
            run: "click",
        },
        {
            content: "The run says what moved",
            trigger: `${panel("connected")} .o_outlook_sync_summary:contains('Outlook: 0 created')`,
        },
        {
            content: "Stop my sync",
            trigger: `${panel("connected")} .o_outlook_sync_stop`,
            run: "click",
        },
        {
            content: "Restart it",
            trigger: `${panel("stopped")} .o_outlook_sync_restart`,
            run: "click",
        },
        {
            trigger: panel("connected"),
        },
    ],
});

registry.category("web_tour.tours").add("outlook_sync_connect_tour", {
    url: "/odoo/calendar",
    steps: () => [
        {
            content: "A user who never connected is offered to connect",
            trigger: `${panel("not_connected")} .o_outlook_sync_connect`,
        },
    ],
});

registry.category("web_tour.tours").add("outlook_sync_setup_admin_tour", {
    url: "/odoo/calendar",
    steps: () => [
        {
            content: "Administrators are sent to the settings",
            trigger: `${panel("setup")} .o_outlook_sync_settings`,
            run: "click",
        },
        {
            trigger: ".o_setting_container #outlook_calendar_sync_setting",
        },
    ],
});

registry.category("web_tour.tours").add("outlook_sync_setup_user_tour", {
    url: "/odoo/calendar",
    steps: () => [
        {
            content: "Other users are told an administrator must set it up, with no link",
            trigger: `${panel("setup")}:contains('An administrator needs to set up'):not(:has(.o_outlook_sync_settings))`,
        },
    ],
});

registry.category("web_tour.tours").add("outlook_sync_reset_tour", {
    steps: () => [
        {
            content: "Open the user's Calendar tab",
            trigger: ".o_notebook .nav-link:contains('Calendar')",
            run: "click",
        },
        {
            trigger: ".o_form_view [name='outlook_sync_state']:contains('Connected')",
        },
        {
            content: "Reset Account",
            trigger: "button:contains('Reset Account')",
            run: "click",
        },
        {
            content: "Delete the user's events from Odoo",
            trigger: ".modal .o_field_widget[name='delete_policy'] label:contains('Delete from Odoo')",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name='sync_policy'] label:contains('Synchronize all existing events')",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button:contains('Confirm')",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_form_view [name='outlook_sync_state']:contains('Not connected')",
        },
    ],
});
