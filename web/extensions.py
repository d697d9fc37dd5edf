"""Flask extensions that can be shared between apps."""

from __future__ import annotations

from flask_babel import Babel

babel = Babel()
