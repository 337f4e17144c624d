"""Accounts endpoints. Thin: validate input, call one service or selector, render. Who may act
is decided before the view runs (accounts/permissions.py).

| path                                             | view                                | rule (service or selector)              |
|--------------------------------------------------|-------------------------------------|-----------------------------------------|
| POST /users/register                             | public.RegisterViewSet.register     | services/email_verification.user_sign_up |
| POST /login                                      | public.AuthViewSet.login            | services/login.user_login               |
| POST /auth/refresh, /auth/logout                 | public.AuthViewSet.refresh/logout   | services/tokens.token_refresh/revoke    |
| POST /auth/email/verify                          | email.EmailTokenViewSet.verify      | services/email_verification.email_verify |
| POST /auth/email/resend (signed in)              | email.EmailResendViewSet.resend     | services/email_verification.verification_resend |
| POST /auth/password/reset                        | email.EmailTokenViewSet.password_reset | services/password_reset.password_reset_request |
| POST /auth/password/reset/confirm                | email.EmailTokenViewSet.password_reset_confirm | services/password_reset.password_reset_confirm |
| POST /users/link_id                              | users.UserViewSet.link_id           | services/linked_ids.linked_id_add       |
| DELETE /users/delete_user/{user_id}              | users.UserViewSet.delete_user       | services/user_data.user_delete          |
| GET /users/{user_id}                             | users.UserViewSet.retrieve          | selectors.user_get                      |
| PATCH /users/{user_id}                           | users.UserViewSet.partial_update    | services/account.user_update            |
| DELETE /users/{user_id}?reason=                  | users.UserViewSet.trash             | services/trash.user_trash               |
| GET /users/{user_id}/export                      | users.UserViewSet.export            | services/user_data.user_export          |
| POST /users/{user_id}/password                   | users.UserViewSet.password          | services/passwords.user_password_change |
| DELETE /users/{user_id}/linked_ids/{linked_id}   | users.UserViewSet.unlink            | services/linked_ids.linked_id_remove    |
| GET /users (admin)                               | users.UserViewSet.list              | selectors.users_query                   |
| GET /users/by_linked_id/{linked_id} (admin)      | users.UserViewSet.by_linked_id      | selectors.user_by_linked_id             |
| GET /trash (admin)                               | trash.TrashViewSet.list             | selectors.trash_query/trash_rows        |
| POST /trash/bulk_delete (admin)                  | trash.TrashViewSet.bulk_trash       | services/trash.users_trash_bulk         |
| POST /trash/{user_id}/restore (admin)            | trash.TrashViewSet.restore          | services/trash.user_restore             |
| DELETE /trash/{user_id} (admin)                  | trash.TrashViewSet.purge            | services/trash.user_purge               |
| GET, DELETE /users/{user_id}/sessions            | sessions.SessionViewSet.sessions    | services/sessions.user_sessions_list/end_others |
| DELETE /users/{user_id}/sessions/{session_id}    | sessions.SessionViewSet.end         | services/sessions.user_session_end      |
| POST, DELETE /users/{user_id}/mfa/totp           | two_factor.TwoFactorViewSet.totp    | services/two_factor.totp_enrol_start/totp_disable |
| POST /users/{user_id}/mfa/totp/confirm           | two_factor.TwoFactorViewSet.totp_confirm | services/two_factor.totp_enrol_confirm |
| POST /users/{user_id}/mfa/recovery_codes         | two_factor.TwoFactorViewSet.recovery_codes | services/two_factor.recovery_codes_regenerate |
| DELETE /users/{user_id}/mfa (admin)              | two_factor.TwoFactorViewSet.reset   | services/two_factor.mfa_reset           |
| POST /auth/mfa                                   | two_factor.MfaLoginViewSet.mfa      | services/login.mfa_login                |
"""
