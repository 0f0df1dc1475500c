"""The RESP client of the integration tier (tests/integration/akv.py), re-exported."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "integration"))

from akv import (ConnectionClosed, Err, ProtocolViolation, RespClient,  # noqa: E402,F401
                 encode_command, free_ports)
