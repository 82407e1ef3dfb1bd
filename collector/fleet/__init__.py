"""Fleet (fleetdm.com) over the shared HTTP client: an API token (Bearer) from the
environment, ``page``/``per_page`` paging.

Provider ``fleet``: one account per configured Fleet server.
"""
