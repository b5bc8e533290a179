"""The desktop app (PySide6). Everything Qt lives under this package."""
