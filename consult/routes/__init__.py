"""Community routes: sign-in, language, accounts and areas (mounted at the root)."""

from consult.routes import accounts, auth

routes = auth.routes + accounts.routes
