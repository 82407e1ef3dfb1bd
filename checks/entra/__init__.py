"""Built-in Microsoft Entra ID checks (provider ``entra``: one target per tenant)."""
