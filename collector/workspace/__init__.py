"""Google Workspace over the Admin SDK Directory API and the shared HTTP client.

Provider ``workspace``: one account per configured domain, read with a service account's
domain-wide delegation (it acts as ``admin_email``, read-only scope only).
"""
