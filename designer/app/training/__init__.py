"""The Training workspace: data, settings, run control, live curves, runs, results, search."""
