"""Cross-provider identity checks: leavers who still hold access elsewhere, and accounts that
belong to nobody in the source of truth."""
