"""Flask extension objects are created here, unbound, and bound to the app in `create_app`.

None exist yet: the database, authentication and rate-limit extensions arrive with them.
"""
