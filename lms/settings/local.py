"""Development: DEBUG on, mail to the console, embedded defaults (PostgreSQL in var/pgdata, the
filesystem broker in var/broker)."""

from lms.settings.base import *
from lms.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
