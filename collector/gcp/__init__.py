"""Google Cloud collectors: Cloud Asset Inventory sweeps per organisation, folder or project."""
