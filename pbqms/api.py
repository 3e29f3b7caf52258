"""REST API root — /api/v1/. Each capability adds its router from its own api.py."""

from ninja import NinjaAPI

api = NinjaAPI(title="PBQMS API", version="1", urls_namespace="api")
