"""Writes on users and what hangs off them: every business rule of `accounts`, one module per
capability. Import the module you need (`from accounts.services import trash`); this package
re-exports nothing, so each rule has exactly one address.

| module          | what it owns                                                              |
|-----------------|---------------------------------------------------------------------------|
| audit           | the security event log (`audit_record`)                                   |
| passwords       | password validation, the dummy hash, changing a password                  |
| registration    | creating a user; which unique index refused a write; username suggestions |
| account         | changing username, email and role                                         |
| login           | checking a password (and a second factor) and issuing tokens              |
| tokens          | issuing, rotating and revoking JWTs (each pair within a session)          |
| sessions        | sessions: begin, rotate, reuse detection, end (`user_sessions_end`), list |
| session_integrity | the sessions on users and the Session documents agree (check_integrity) |
| two_factor      | TOTP enrolment, recovery codes, the second step of a login, admin reset   |
| linked_ids      | linking and unlinking external ids                                        |
| trash           | trash, restore, bulk trash, purge (the chain delete of a trashed user)    |
| user_data       | everything stored about a user: chain delete, counts, export, orphans     |
| importing       | the all-or-nothing import from the older systems                          |
| admins          | creating admins (command and start-up)                                    |
| email_tokens    | the tokens mailed for verification and reset: issued, found, spent        |
| email_verification | sign-up with a verification mail, verify, resend, the login rule, what an email change sets off |
| password_reset  | the reset request (same answer for any address) and its confirm           |

Services take keyword arguments, raise the exceptions DRF renders (ValidationError, NotFound,
PermissionDenied, Conflict) and never return a password hash to a caller that renders.
"""
