"""Community routes: sign-in, passwords, language, accounts and areas, notifications and
following (mounted at the root)."""

from core.routes import accounts, auth, notifications, passwords

routes = auth.routes + passwords.routes + accounts.routes + notifications.routes
