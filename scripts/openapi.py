"""Write the OpenAPI document the server serves at /schema/openapi.json (for the JS SDK's generated types)."""

from __future__ import annotations

import json
import os
import sys
import tempfile


def main() -> None:
    os.environ.setdefault("SECRET_KEY", "openapi-dump-only")
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="sf-openapi-"))
    from litestar.serialization import encode_json

    from server.app import create_app
    from server.settings import from_env

    schema = json.loads(encode_json(create_app(from_env()).openapi_schema.to_schema()))  # Litestar's own encoder
    out = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as fh:
            fh.write(out)
    else:
        sys.stdout.write(out)


if __name__ == "__main__":
    main()
