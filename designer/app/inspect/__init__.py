"""The Inspect workspace: looking inside a design in the app (designer/app/inspect/workspace.py)."""
