"""Dialogs: the template gallery and the app's questions (prompts)."""
