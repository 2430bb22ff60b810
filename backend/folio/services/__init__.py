"""Business logic: plain functions over the database, used by the API, the CLI and the workers."""
