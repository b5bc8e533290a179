"""The one exception the data package raises for problems a user can fix.

This module is copied into the exported training script (see designer.training.script.export):
it imports only the standard library, numpy, torch, Pillow and the other modules copied there.
"""


class DataError(Exception):
    """A data problem explained for the user: what is wrong and where (file, class, count).

    The app shows the message as is, so it must make sense without a traceback.
    """
