"""Bulk jobs: the durable store and statuses (`store`), the task code (`tasks`), where tasks run (`worker`: Celery or threads)."""
