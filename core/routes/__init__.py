"""Community routes: sign-in, language, accounts and areas (mounted at the root)."""

from core.routes import accounts, auth

routes = auth.routes + accounts.routes
