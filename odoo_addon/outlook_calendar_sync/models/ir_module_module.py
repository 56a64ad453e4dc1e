from odoo import models
from odoo.exceptions import UserError

from ..hooks import CONFLICTING_MODULES, install_guard


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def init(self):
        super().init()
        install_guard(self.env.cr)

    def button_install(self):
        """Refuse to install Odoo's own Outlook integration beside this addon (directly or as a dependency).

        Checked before anything is marked, so the administrator gets this message rather than the database
        guard's (see ``hooks.install_guard``).
        """
        wanted = self | self.upstream_dependencies()
        conflicting = wanted.filtered(lambda module: module.name in CONFLICTING_MODULES)
        if conflicting:
            raise UserError(
                self.env._(
                    "%(modules)s cannot be installed while Outlook Calendar Sync is installed: both would sync "
                    "the same calendars and duplicate every event. Uninstall Outlook Calendar Sync first if you "
                    "want Odoo's own Outlook integration.",
                    modules=", ".join(sorted(conflicting.mapped("shortdesc"))),
                )
            )
        return super().button_install()
