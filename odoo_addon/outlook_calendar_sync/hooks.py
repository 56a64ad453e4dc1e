from odoo.exceptions import UserError
from odoo.tools import SQL

# Odoo's own Outlook integration. It syncs the same calendars through its own fields and cron, so running both
# would duplicate every event on both sides.
CONFLICTING_MODULES = ("microsoft_calendar", "microsoft_account")
ACTIVE_MODULE_STATES = ("installed", "to install", "to upgrade")


def conflicting_modules(env):
    """The names of the conflicting modules that are installed or about to be."""
    modules = (
        env["ir.module.module"]
        .sudo()
        .search([("name", "in", CONFLICTING_MODULES), ("state", "in", ACTIVE_MODULE_STATES)])
    )
    return sorted(modules.mapped("name"))


def pre_init_hook(env):
    """Refuse to install beside Odoo's own Outlook Calendar integration."""
    found = conflicting_modules(env)
    if found:
        raise UserError(
            env._(
                "Outlook Calendar Sync cannot be installed while Odoo's own Outlook integration (%(modules)s) is "
                "installed: both would sync the same calendars and duplicate every event. Uninstall "
                "%(modules)s first, then install Outlook Calendar Sync.",
                modules=", ".join(found),
            )
        )


# Odoo installs modules named on the command line (-i) before loading any addon's Python, so no ORM override
# can stop them: a database trigger does, whichever way the install is asked for.
GUARD_SQL = SQL(
    """
    CREATE OR REPLACE FUNCTION outlook_calendar_sync_guard() RETURNS trigger AS $$
    BEGIN
        IF NEW.name IN ('microsoft_calendar', 'microsoft_account')
           AND NEW.state IN ('to install', 'installed', 'to upgrade')
           AND EXISTS (SELECT 1 FROM ir_module_module
                        WHERE name = 'outlook_calendar_sync' AND state IN ('installed', 'to upgrade')) THEN
            -- No percent signs anywhere in this SQL: psycopg2 would read them as parameter placeholders.
            RAISE EXCEPTION USING MESSAGE = 'The module ' || NEW.name
                || ' cannot be installed while Outlook Calendar Sync (outlook_calendar_sync) is installed:'
                || ' both would sync the same calendars and duplicate every event.'
                || ' Uninstall outlook_calendar_sync first.';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql;
    DROP TRIGGER IF EXISTS outlook_calendar_sync_guard ON ir_module_module;
    CREATE TRIGGER outlook_calendar_sync_guard
        BEFORE UPDATE OF state ON ir_module_module
        FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
        EXECUTE FUNCTION outlook_calendar_sync_guard();
    """
)


def install_guard(cr):
    """Create (or refresh) the trigger that refuses Odoo's own Outlook modules while this addon is installed."""
    cr.execute(GUARD_SQL)


def uninstall_hook(env):
    env.cr.execute(
        SQL(
            "DROP TRIGGER IF EXISTS outlook_calendar_sync_guard ON ir_module_module;"
            " DROP FUNCTION IF EXISTS outlook_calendar_sync_guard();"
        )
    )
