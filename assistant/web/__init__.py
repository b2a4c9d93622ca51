"""The Chainlit chat: app, launch, accounts, data layer, export, static files."""
