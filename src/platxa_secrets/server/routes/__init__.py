"""The API's routers, one per area; `app.py` mounts them."""
