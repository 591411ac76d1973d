"""The base of every pydantic model in the core.

`defer_build`: a model's validator is built the first time it is used, not when its module is
imported. A function imports the whole schema module but uses a few models, so this keeps the
others off its cold start (bench/cold.py measures it). Empty collections default to a literal `[]`
or `{}` (pydantic copies it per instance) rather than `default_factory=list`: building a validator
asks for the factory's signature, and for a builtin inspect parses its text signature with the
tokenizer (its first use compiles a large regex), 7 ms of the first request for Program and Profile.
"""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
