"""Run as ``python -I -S invoke_handler.py RESULT_FILE``: invoke one handler with nothing but the given ``sys.path``.

Reads ``{"sys_path", "artifact_paths", "function_name", "handler", "events"}`` as JSON on stdin, replaces
``sys.path``, imports the handler, invokes it with every event and writes ``{"results", "loaded"}`` as JSON to
``RESULT_FILE`` (stdout belongs to the handler's logs). ``loaded`` maps every module imported from the artifact
folders to its file. Any failure ends the process with a traceback and a non-zero exit code.
"""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any


class LambdaContext:
    """The attributes of the Lambda context object that handlers, Mangum and Powertools read."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:eu-central-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "artifact-test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main(result_file: str) -> None:
    request = json.load(sys.stdin)
    sys.path[:] = request["sys_path"]
    module_name, _, attribute = request["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    results: list[Any] = [handler(event, LambdaContext(request["function_name"])) for event in request["events"]]
    roots = [Path(path) for path in request["artifact_paths"]]
    loaded = {
        name: module.__file__
        for name, module in sorted(sys.modules.items())
        if getattr(module, "__file__", None) and any(Path(module.__file__).is_relative_to(root) for root in roots)
    }
    Path(result_file).write_text(json.dumps({"results": results, "loaded": loaded}), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
