"""Community routes: sign-in, passwords, language, accounts and areas, and the health probes
(mounted at the root)."""

from core.routes import accounts, auth, health, passwords

routes = auth.routes + passwords.routes + accounts.routes + health.routes
