"""Community routes: sign-in, passwords, language, accounts and areas, notifications and
following, and the health probes (mounted at the root)."""

from core.routes import accounts, auth, health, notifications, passwords

routes = auth.routes + passwords.routes + accounts.routes + notifications.routes + health.routes
