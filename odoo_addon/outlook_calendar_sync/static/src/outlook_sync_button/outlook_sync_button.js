/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { AttendeeCalendarController } from "@calendar/views/attendee_calendar/attendee_calendar_controller";

/**
 * The Outlook panel under the mini calendar: what the user's Outlook sync is doing and what they can do about it.
 * Every action goes through ORM methods that act on the current user's own connection only.
 */
export class OutlookSyncButton extends Component {
    static template = "outlook_calendar_sync.OutlookSyncButton";
    static props = { onSynced: { type: Function, optional: true } };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.notification = useService("notification");
        this.state = useState({ status: null, busy: false });
        onWillStart(() => this.refresh());
    }

    async refresh() {
        this.state.status = await this.orm.call("outlook.sync.account", "get_outlook_status", []);
    }

    /** One word for the template: which of the panel's faces to show. */
    get view() {
        const status = this.state.status;
        if (!status) {
            return "loading";
        }
        if (this.state.busy) {
            return "syncing";
        }
        if (!status.configured) {
            return "setup";
        }
        if (status.paused && ["connected", "error"].includes(status.state)) {
            return "paused";
        }
        return status.state;
    }

    formatWhen(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    connect() {
        const here = window.location.pathname + window.location.search;
        window.location.assign(`/outlook_calendar_sync/connect?redirect=${encodeURIComponent(here)}`);
    }

    openSettings() {
        this.action.doAction("calendar.calendar_settings_action");
    }

    openLog() {
        this.action.doAction("outlook_calendar_sync.action_outlook_sync_log");
    }

    async run(method, successMessage) {
        this.state.busy = true;
        try {
            this.state.status = await this.orm.call("outlook.sync.account", method, []);
            if (successMessage) {
                this.notification.add(successMessage, { type: "success" });
            }
            if (this.props.onSynced) {
                await this.props.onSynced();
            }
        } catch (error) {
            // Show what the server now knows (e.g. the error recorded by the run), then let Odoo report it.
            await this.refresh();
            throw error;
        } finally {
            this.state.busy = false;
        }
    }

    syncNow() {
        return this.run("action_sync_my_calendar");
    }

    stop() {
        return this.run("action_stop_my_sync", _t("Outlook sync stopped."));
    }

    restart() {
        return this.run("action_restart_my_sync", _t("Outlook sync restarted."));
    }
}

AttendeeCalendarController.components = {
    ...AttendeeCalendarController.components,
    OutlookSyncButton,
};
