"""Built-in Microsoft Intune checks (provider ``intune``: one target per tenant)."""
