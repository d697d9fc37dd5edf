"""Gunicorn settings: gunicorn -c gunicorn.conf.py 'ocop.web:create_app()'."""

import multiprocessing
import os

bind = os.environ.get("OCOP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("OCOP_WORKERS", multiprocessing.cpu_count()))
# Threads, because a scan waits on the database (one round trip to PostgreSQL,
# SQLite's write lock): while one waits, another runs. Measured with
# bench/verifier_http.py, 2 workers: PostgreSQL scans 0.10 -> 0.25 of /healthz
# going from sync workers to 4 threads each (docs/scan-path.md).
worker_class = "gthread"
threads = int(os.environ.get("OCOP_THREADS", 4))
# Recycle workers now and then, staggered, so no slow leak can grow for ever.
max_requests = int(os.environ.get("OCOP_MAX_REQUESTS", 10_000))
max_requests_jitter = max_requests // 10
timeout = 30
accesslog = "-"
# No client addresses and no query strings: neither belongs in a log.
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# Gunicorn answers 414 itself past this (its largest value); a stamp URL is ~160.
limit_request_line = 8190
