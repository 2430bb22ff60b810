"""HTTP plumbing: authentication, the error handler, rate limits, OpenAPI and the web app."""
