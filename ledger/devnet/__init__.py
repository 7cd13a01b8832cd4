"""The local devnet: anvil from the project's node_modules, a deployed hub and a demo consortium."""
