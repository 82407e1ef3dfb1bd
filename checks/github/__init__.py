"""GitHub checks: organisation settings and owners, default-branch rules, secret scanning,
deploy keys, outside collaborators, security alerts past their deadline, inactive members."""
