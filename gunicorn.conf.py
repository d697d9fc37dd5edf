"""Gunicorn settings: gunicorn -c gunicorn.conf.py 'ocop.web:create_app()'."""

import multiprocessing
import os

bind = os.environ.get("OCOP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("OCOP_WORKERS", multiprocessing.cpu_count()))
# Recycle workers now and then, staggered, so no slow leak can grow for ever.
max_requests = 10_000
max_requests_jitter = 1_000
timeout = 30
accesslog = "-"
# No client addresses and no query strings: neither belongs in a log.
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# Gunicorn answers 414 itself past this (its largest value); a stamp URL is ~160.
limit_request_line = 8190
