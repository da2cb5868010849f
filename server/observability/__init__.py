"""Operations: Prometheus metrics, OpenTelemetry tracing and the samplers that feed them."""
