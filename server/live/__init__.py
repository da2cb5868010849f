"""Live streaming: streams with hashed ingest keys, the media server's hooks, and the live room on ``live:{id}``."""
