"""The loyalty engine's core, shipped as the functions' layer, and what keeps its cold starts short.

A function's init only creates objects that live as long as the function (modules,
classes, models, clients), yet the garbage collector walks them all again and again while they load
(callgrind: the members function's init fell from 1,408M to 1,249M instructions against 1,237M for a
bare handler loading the same libraries). In Lambda it is off from the first
import of this package until `ready` marks the end of init, which freezes what was loaded (never
walked again, which also keeps later collections short) and turns collection back on.

`Model`, the base of every pydantic model in the core, defers building a model's validator to its first
use, not its module's import: a function imports the whole schema module but uses a few models, so
this keeps the others off its cold start (bench/cold.py measures it). Empty collections default to a
literal `[]` or `{}` (pydantic copies it per instance) rather than `default_factory=list`: building a
validator asks for the factory's signature, and for a builtin inspect parses its text signature with
the tokenizer (its first use compiles a large regex), 7 ms of the first request for Program and Profile.
"""

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


from pydantic import BaseModel, ConfigDict  # noqa: E402 - after gc.disable: its import is init too


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
