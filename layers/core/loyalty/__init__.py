"""The loyalty engine's core, shipped as the functions' layer.

Cold start: a function's init only creates objects that live as long as the function (modules,
classes, models, clients), yet the garbage collector walks them all again and again while they load
(callgrind: the members function's init fell from 1,408M to 1,249M instructions against 1,237M for a
bare handler loading the same libraries). In Lambda it is off from the first
import of this package until `ready` marks the end of init, which freezes what was loaded (never
walked again, which also keeps later collections short) and turns collection back on."""

import gc
import os
from typing import TypeVar

H = TypeVar("H")

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # set by Lambda (and the local runtime and the bench)
    gc.disable()


def ready(handler: H) -> H:
    """Every handler factory returns through here: the function's init is done."""
    gc.freeze()
    gc.enable()
    return handler
