import re
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.http import request

from .outlook_sync_config import PARAM_PREFIX

# An Azure application (client) id is a GUID.
CLIENT_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# "common", "organizations", "consumers", a tenant GUID or a verified domain name.
TENANT_RE = re.compile(r"^(common|organizations|consumers|[0-9a-fA-F-]{36}|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    outlook_sync_enabled = fields.Boolean(
        string="Outlook Calendar", config_parameter=PARAM_PREFIX + "enabled", groups="base.group_system"
    )
    outlook_sync_client_id = fields.Char(
        string="Client ID", config_parameter=PARAM_PREFIX + "client_id", groups="base.group_system"
    )
    outlook_sync_client_secret = fields.Char(
        string="Client Secret", config_parameter=PARAM_PREFIX + "client_secret", groups="base.group_system"
    )
    outlook_sync_tenant = fields.Char(
        string="Tenant",
        config_parameter=PARAM_PREFIX + "tenant",
        default="common",
        groups="base.group_system",
        help="'common' for any work, school or personal account; your tenant id or domain for a single-tenant app.",
    )
    outlook_sync_paused = fields.Boolean(
        string="Pause Synchronization",
        config_parameter=PARAM_PREFIX + "paused",
        groups="base.group_system",
        help="Pauses every user's sync. Changes made meanwhile are kept and sent when the sync resumes.",
    )
    outlook_sync_first_sync = fields.Selection(
        [
            ("future", "Events not over yet"),
            ("all", "All events"),
            ("none", "None, only events created afterwards"),
        ],
        string="Existing Odoo events at a first sync",
        config_parameter=PARAM_PREFIX + "first_sync",
        default="future",
        groups="base.group_system",
        help="Which events a user already has in Odoo go to Outlook when they connect. Copying past meetings would "
        "mail their attendees invitations for the past.",
    )
    outlook_sync_conflict_policy = fields.Selection(
        [("latest", "The latest edit"), ("local", "Odoo's version"), ("remote", "Outlook's version")],
        string="When an event changed on both sides",
        config_parameter=PARAM_PREFIX + "conflict_policy",
        default="latest",
        groups="base.group_system",
        help="Whose version is kept when an event was changed in Odoo and in Outlook since the last sync. The other "
        "version is written in the sync log.",
    )
    outlook_sync_redirect_uri = fields.Char(
        string="Redirect URI", compute="_compute_outlook_sync_redirect_uri", groups="base.group_system"
    )
    outlook_sync_base_url_warning = fields.Char(
        compute="_compute_outlook_sync_redirect_uri", groups="base.group_system"
    )

    @api.depends("outlook_sync_enabled")
    def _compute_outlook_sync_redirect_uri(self):
        config = self.env["outlook.sync.config"]
        redirect_uri = config._redirect_uri()
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        warning = False
        if request:
            used = urlsplit(request.httprequest.url_root)
            configured = urlsplit(base_url)
            if (used.scheme, used.netloc) != (configured.scheme, configured.netloc):
                used_origin = f"{used.scheme}://{used.netloc}"
                warning = self.env._(
                    "You are using Odoo at %(used)s but its web.base.url is %(base)s. Microsoft sends users back to "
                    "the redirect URI built from web.base.url: register that address in Azure, or fix web.base.url.",
                    used=used_origin,
                    base=base_url,
                )
        for settings in self:
            settings.outlook_sync_redirect_uri = redirect_uri
            settings.outlook_sync_base_url_warning = warning

    def _outlook_sync_check(self):
        """Check what can be checked without calling Microsoft: the shapes, then ``GraphConfig``'s validation."""
        self.ensure_one()
        if not self.outlook_sync_enabled:
            return
        client_id = (self.outlook_sync_client_id or "").strip()
        tenant = (self.outlook_sync_tenant or "common").strip()
        if client_id and not CLIENT_ID_RE.match(client_id):
            raise ValidationError(
                self.env._(
                    "Outlook Calendar: the Client ID %(value)r is not an Application (client) ID. Copy it from the "
                    "Overview page of your app registration in Azure (it looks like "
                    "00000000-0000-0000-0000-000000000000).",
                    value=client_id,
                )
            )
        if not TENANT_RE.match(tenant):
            raise ValidationError(
                self.env._(
                    "Outlook Calendar: the tenant %(value)r is not valid. Use 'common', 'organizations', "
                    "'consumers', your tenant id or your tenant's domain name.",
                    value=tenant,
                )
            )
        if client_id:
            config = self.env["outlook.sync.config"]
            config._build_graph_config(
                client_id,
                self.outlook_sync_client_secret or None,
                tenant,
                config._param("login_url"),
                config._param("graph_url"),
            )

    def _outlook_sync_field_names(self):
        return [name for name in self._fields if name.startswith("outlook_sync_")]

    @api.model
    def default_get(self, fields):
        # Odoo answers default_get (and the settings form's onchange, which goes through it) from system parameters
        # read with elevated rights, and checks no access right: unchecked, any signed-in user, portal included,
        # could read the client secret over RPC.
        ours = set(self._outlook_sync_field_names())
        self.check_field_access_rights("read", [name for name in fields or () if name in ours])
        return super().default_get(fields)

    def set_values(self):
        # set_values is public and Odoo checks rights only in execute(): unchecked, any signed-in user could call it
        # over RPC, even on no record, and rewrite, pause or switch off everyone's Outlook sync.
        self.check_field_access_rights("write", self._outlook_sync_field_names())
        for settings in self:
            settings._outlook_sync_check()
            settings.outlook_sync_client_id = (settings.outlook_sync_client_id or "").strip()
            settings.outlook_sync_tenant = (settings.outlook_sync_tenant or "common").strip()
        return super().set_values()
