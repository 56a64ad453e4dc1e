from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CLIENT_ID, EmulatorCase, OutlookSyncCase, configure


@tagged("post_install", "-at_install")
class TestSettings(OutlookSyncCase):
    def settings(self, **values):
        return self.env["res.config.settings"].create(
            {
                "outlook_sync_enabled": True,
                "outlook_sync_client_id": CLIENT_ID,
                "outlook_sync_client_secret": "s3cret",
                "outlook_sync_tenant": "common",
                **values,
            }
        )

    def param(self, key):
        return self.env["ir.config_parameter"].sudo().get_param(f"outlook_calendar_sync.{key}")

    def test_valid_settings_are_stored(self):
        self.settings(outlook_sync_client_id=f"  {CLIENT_ID.upper()} ", outlook_sync_tenant="contoso.com").execute()
        self.assertEqual(self.param("client_id"), CLIENT_ID.upper())
        self.assertEqual(self.param("tenant"), "contoso.com")
        self.assertEqual(self.param("client_secret"), "s3cret")

    def test_client_id_must_be_a_guid(self):
        with self.assertRaisesRegex(ValidationError, "not an Application"):
            self.settings(outlook_sync_client_id="my-app").execute()
        self.assertEqual(self.param("client_id"), CLIENT_ID)

    def test_tenant_shape(self):
        with self.assertRaisesRegex(ValidationError, "tenant 'bad tenant!' is not valid"):
            self.settings(outlook_sync_tenant="bad tenant!").execute()

    def test_graph_config_validation_applies(self):
        self.env["ir.config_parameter"].sudo().set_param("outlook_calendar_sync.login_url", "ftp://login.example.com")
        with self.assertRaisesRegex(UserError, "login_url"):
            self.settings().execute()

    def test_disabled_settings_are_not_checked(self):
        self.settings(outlook_sync_enabled=False, outlook_sync_client_id="anything").execute()
        self.assertFalse(self.env["outlook.sync.config"]._is_enabled())

    def test_redirect_uri_follows_web_base_url(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.com/")
        settings = self.settings()
        self.assertEqual(
            settings.outlook_sync_redirect_uri, "https://odoo.example.com/microsoft_account/authentication"
        )

    def test_default_endpoints_are_microsofts(self):
        config = self.env["outlook.sync.config"]
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.search([("key", "in", ("outlook_calendar_sync.login_url", "outlook_calendar_sync.graph_url"))]).unlink()
        graph_config = config._graph_config()
        self.assertEqual(graph_config.login_url, "https://login.microsoftonline.com")
        self.assertEqual(graph_config.graph_url, "https://graph.microsoft.com")

    def test_secret_is_for_administrators_only(self):
        field = self.env["res.config.settings"]._fields["outlook_sync_client_secret"]
        self.assertEqual(field.groups, "base.group_system")
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(self.user_a).get_param("outlook_calendar_sync.client_secret")


@tagged("post_install", "-at_install")
class TestSettingsBaseUrlWarning(HttpCase):
    """The settings warn when the administrator reaches Odoo at another address than web.base.url."""

    def read_settings(self):
        admin = new_test_user(
            self.env, login="ocs_cfg", password="ocs_cfg_pw", groups="base.group_user,base.group_system"
        )
        self.authenticate(admin.login, "ocs_cfg_pw")
        settings_id = self.make_jsonrpc_request(
            "/web/dataset/call_kw/res.config.settings/create",
            {"model": "res.config.settings", "method": "create", "args": [{}], "kwargs": {}},
        )
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw/res.config.settings/read",
            {
                "model": "res.config.settings",
                "method": "read",
                "args": [settings_id, ["outlook_sync_redirect_uri", "outlook_sync_base_url_warning"]],
                "kwargs": {},
            },
        )[0]

    def test_no_warning_at_the_configured_address(self):
        configure(self.env)
        values = self.read_settings()
        self.assertFalse(values["outlook_sync_base_url_warning"])
        self.assertEqual(values["outlook_sync_redirect_uri"], f"{self.base_url()}/microsoft_account/authentication")

    def test_warning_at_another_address(self):
        configure(self.env)
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.com")
        values = self.read_settings()
        self.assertIn("web.base.url is https://odoo.example.com", values["outlook_sync_base_url_warning"])
        self.assertEqual(
            values["outlook_sync_redirect_uri"], "https://odoo.example.com/microsoft_account/authentication"
        )


@tagged("post_install", "-at_install")
class TestSyncSettings(EmulatorCase):
    def test_policies_are_settings(self):
        self.env["res.config.settings"].create(
            {
                "outlook_sync_enabled": True,
                "outlook_sync_client_id": CLIENT_ID,
                "outlook_sync_client_secret": "s3cret",
                "outlook_sync_first_sync": "none",
                "outlook_sync_conflict_policy": "remote",
            }
        ).execute()
        ICP = self.env["ir.config_parameter"].sudo()
        self.assertEqual(ICP.get_param("outlook_calendar_sync.first_sync"), "none")
        self.assertEqual(ICP.get_param("outlook_calendar_sync.conflict_policy"), "remote")

    def test_first_sync_setting_keeps_existing_events_out_of_outlook(self):
        self.env["ir.config_parameter"].sudo().set_param("outlook_calendar_sync.first_sync", "none")
        self.event(self.user_a, name="Existed before")
        account = self.emulator_account(self.user_a)
        log = account._run_sync()
        self.assertEqual(log.outlook_created, 0, log.message)
        self.assertIn("1 event(s) that existed in Odoo before this first sync were kept out", log.message)
        self.assertEqual(self.emulator.events("alice@example.com"), [])
        start = datetime.now().replace(microsecond=0) + timedelta(days=4)
        self.env["calendar.event"].with_user(self.user_a).create(
            {"name": "Made afterwards", "start": start, "stop": start + timedelta(hours=1)}
        )
        self.assertEqual(account._run_sync().outlook_created, 1)
