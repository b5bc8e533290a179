"""The one exception the visualization engine raises for problems a user can fix."""


class VizError(Exception):
    """What is wrong and where (node, file, tensor), in words that need no traceback."""
