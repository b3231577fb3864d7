"""Development: DEBUG on, mail to the console, embedded defaults (SQLite, filesystem broker)."""

from lms.settings.base import *
from lms.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
