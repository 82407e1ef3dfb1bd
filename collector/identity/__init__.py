"""Provider ``identity``: cross-provider identity checks over the other providers' snapshots.
Its one target is the configured source of truth; it reads no API of its own."""
