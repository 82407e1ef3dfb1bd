"""Built-in Google Cloud checks, judged on Cloud Asset Inventory snapshots."""
