"""Operations: the dev supervisor, waiting for services, readiness checks and metrics."""
