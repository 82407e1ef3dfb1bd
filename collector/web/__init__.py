"""The web console (``annexa serve``): status for people, over the same functions as the CLI."""
