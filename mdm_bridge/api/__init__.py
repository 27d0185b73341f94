"""The HTTP API: the app factory (`api.app.create_app`) and its routers."""
