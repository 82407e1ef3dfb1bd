"""Google Workspace checks: 2-Step Verification, inactive accounts, super administrators."""
