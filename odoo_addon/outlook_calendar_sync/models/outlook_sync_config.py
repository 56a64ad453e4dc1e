"""Where the addon's settings live (system parameters) and how they become an ``outlook_sync.GraphConfig``."""

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import str2bool

import outlook_sync

PARAM_PREFIX = "outlook_calendar_sync."
CALLBACK_PATH = "/microsoft_account/authentication"
DEFAULTS = {
    "enabled": "False",
    "client_id": "",
    "client_secret": "",
    "tenant": "common",
    "login_url": "https://login.microsoftonline.com",
    "graph_url": "https://graph.microsoft.com",
    "paused": "False",
    # Which events existing in Odoo before a user's first sync go to Outlook: "all", "future" or "none".
    # Future only by default: copying past meetings would mail their attendees invitations for the past.
    "first_sync": "future",
    # Who wins when an event changed on both sides since the last sync: "latest", "local" (Odoo) or "remote".
    "conflict_policy": "latest",
}


class OutlookSyncConfig(models.AbstractModel):
    _name = "outlook.sync.config"
    _description = "Outlook Calendar Sync: settings access"

    @api.model
    def _param(self, key):
        # System parameters are readable by administrators only; reading the app's own settings on behalf of a
        # user is what every integration does, and nothing read here is returned to the caller's browser.
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key)
        return DEFAULTS[key] if value in (None, False, "") else value

    @api.model
    def _is_enabled(self):
        return str2bool(self._param("enabled"), default=False)

    @api.model
    def _is_paused(self):
        """Whether an administrator paused every user's sync (local changes keep accumulating meanwhile)."""
        return str2bool(self._param("paused"), default=False)

    @api.model
    def _is_configured(self):
        return self._is_enabled() and bool(self._param("client_id")) and bool(self._param("client_secret"))

    @api.model
    def _redirect_uri(self):
        """The redirect URI to register in Azure, built from ``web.base.url`` (never from the request's host)."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        return base_url.rstrip("/") + CALLBACK_PATH

    @api.model
    def _build_graph_config(self, client_id, client_secret, tenant, login_url, graph_url):
        """An ``outlook_sync.GraphConfig``; its validation errors become a UserError naming the setting."""
        try:
            return outlook_sync.GraphConfig(
                client_id,
                client_secret or None,
                self._redirect_uri(),
                login_url=login_url,
                tenant=tenant,
                graph_url=graph_url,
            )
        except (ValueError, TypeError, outlook_sync.OutlookSyncError) as error:
            raise UserError(self.env._("The Outlook Calendar settings are not valid: %s", error)) from None

    @api.model
    def _graph_config(self):
        """The configuration every Graph call of this database uses; a UserError when it is incomplete."""
        if not self._is_configured():
            raise UserError(
                self.env._(
                    "Outlook Calendar is not set up: an administrator must enable it and enter the Client ID and "
                    "Client Secret in Settings > Calendar > Outlook Calendar."
                )
            )
        return self._build_graph_config(
            self._param("client_id"),
            self._param("client_secret"),
            self._param("tenant"),
            self._param("login_url"),
            self._param("graph_url"),
        )
