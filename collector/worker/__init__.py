"""Celery executor: the leader daemon publishes due jobs, ``annexa worker`` processes collect.

- ``batch``: what one task carries (a run, an account, co-due jobs with their scheduled slot)
  and how a worker turns it into sealed evidence, with the code the local daemon uses.
- ``app``: the Celery app, its queues (one per provider) and the task.
- ``publisher``: the leader's side: batches due jobs per account, publishes them, keeps them
  while the broker is down, and follows them into the store.
- ``ratelimit``: API calls per (account or tenant, service) shared by every worker.
"""
