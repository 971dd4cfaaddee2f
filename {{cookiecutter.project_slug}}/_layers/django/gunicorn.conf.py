"""gunicorn's settings for this app: gunicorn reads this file by default, and its command
line adds to them (`gunicorn config.wsgi --workers 2 --bind 0.0.0.0:8000`).
"""

# Threads (gunicorn's gthread worker): a worker waiting for Logto's answer to one request
# still serves the others.
threads = 8
