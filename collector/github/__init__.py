"""GitHub over the shared HTTP client: a GitHub App (JWT -> installation token) or a token
from the environment, ``Link`` header paging, primary and secondary rate limits waited out.

Provider ``github``: one account per configured organisation.
"""
