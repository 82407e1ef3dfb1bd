"""Azure Resource Manager, Microsoft Entra ID and Intune collectors over one shared HTTP client.

Providers: ``azure`` (one account per subscription), ``entra`` and ``intune`` (one account per
tenant). No Azure SDK beyond azure-identity: the scope reads what the checks need, once per run.
"""
