"""The base of every pydantic model in the core.

`defer_build`: a model's validator is built the first time it is used, not when its module is
imported. A function imports the whole schema module but uses a few models, so this keeps the
others off its cold start (bench/cold.py measures it).
"""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
