"""Community routes: sign-in, passwords, language, accounts and areas (mounted at the root)."""

from core.routes import accounts, auth, passwords

routes = auth.routes + passwords.routes + accounts.routes
