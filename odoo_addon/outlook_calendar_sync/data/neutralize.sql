-- A copy of the database must never sync with the production users' Outlook calendars.
UPDATE outlook_sync_account
   SET access_token = NULL, refresh_token = NULL, token_expires_at = NULL, delta_state = NULL,
       state = 'not_connected';
DELETE FROM outlook_sync_auth_request;
