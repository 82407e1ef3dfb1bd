"""Built-in Azure Resource Manager checks (provider ``azure``: one target per subscription)."""
