"""Okta over the shared HTTP client: an API token (``SSWS``) or an OAuth service app
(``private_key_jwt``), ``Link`` header paging and ``X-Rate-Limit-Reset`` on 429.

Provider ``okta``: one account per configured org.
"""
